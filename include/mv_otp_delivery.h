/*
 * mv_otp.h — delivery of one-time codes (MocaverseOTPDelivery).
 */
#ifndef MV_OTP_DELIVERY_H
#define MV_OTP_DELIVERY_H

#include "mv.h"

/* How long a `pipe` program may run before it is killed as failed. */
#define MV_OTP_PIPE_TIMEOUT apr_time_from_sec(10)

/*
 * Sends code to destination the configured way: `log` writes both to the
 * error log (the one place a code is logged, by design), `response` does
 * nothing here (the handler puts the code in its reply), `pipe` runs the
 * command through /bin/sh -c with "destination\ncode\n" on its standard
 * input and waits for it.  Returns 0 when delivered, or -1 when the pipe
 * program could not start, failed, or ran past MV_OTP_PIPE_TIMEOUT (the
 * reason is logged, without the code).
 */
int mv_otp_deliver(mv_req *q, const char *destination, const char *code);

#endif
