/*
 * mv.h — private header of mod_mocaverse's httpd-facing code.
 *
 * Every .c file under src/ that touches request_rec includes this header,
 * which puts the module in the log tag (so `LogLevel mocaverse:debug` works)
 * and includes the headers of the plumbing that handlers share, each named
 * after the file it declares: mv_config.h (config.c), mv_dispatch.h
 * (dispatch.c: the request and routes), mv_http.h (http.c: replies, body
 * fields, credentials, and the return conventions), mv_db.h (db.c),
 * mv_ratelimit.h (ratelimit.c), mv_lockout.h (lockout.c),
 * mv_idempotency.h (idempotency.c).
 */
#ifndef MV_H
#define MV_H

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"

#include <jansson.h>
#include <libpq-fe.h>

#ifndef MV_MODULE_C /* mod_mocaverse.c declares it with the module */
APLOG_USE_MODULE(mocaverse);
#endif
extern module AP_MODULE_DECLARE_DATA mocaverse_module;

#include "mv_config.h"
#include "mv_db.h"
#include "mv_dispatch.h"
#include "mv_http.h"
#include "mv_idempotency.h"
#include "mv_lockout.h"
#include "mv_ratelimit.h"

#endif
