/*
 * otp_delivery.c — how a one-time code reaches its owner (see mv_otp.h).
 *
 * `pipe` starts a real program for each code: the operator's bridge to an
 * SMS or e-mail service.  It is run with /bin/sh -c so the command may
 * carry arguments, inherits httpd's environment and standard error (so its
 * complaints land in the error log), and must exit 0 within
 * MV_OTP_PIPE_TIMEOUT.
 */
#include "mv.h"
#include "mv_otp_delivery.h"

#include "apr_thread_proc.h"

#include <signal.h>

#define PIPE_SHELL "/bin/sh"
#define PIPE_POLL apr_time_from_msec(5)

/* Waits for proc until the deadline; kills it past it.  0 when it exited
 * with status 0, else -1 with *why set to a reason for the log. */
static int pipe_wait(apr_proc_t *proc, const char **why)
{
    apr_time_t deadline = apr_time_now() + MV_OTP_PIPE_TIMEOUT;
    apr_exit_why_e how;
    int status;

    for (;;) {
        apr_status_t rv = apr_proc_wait(proc, &status, &how, APR_NOWAIT);
        if (APR_STATUS_IS_CHILD_DONE(rv)) {
            break;
        }
        if (!APR_STATUS_IS_CHILD_NOTDONE(rv)) {
            *why = "could not be waited for";
            return -1;
        }
        if (apr_time_now() > deadline) {
            apr_proc_kill(proc, SIGKILL);
            apr_proc_wait(proc, &status, &how, APR_WAIT);
            *why = "timed out and was killed";
            return -1;
        }
        apr_sleep(PIPE_POLL);
    }
    if (how != APR_PROC_EXIT || status != 0) {
        *why = "failed";
        return -1;
    }
    return 0;
}

/* Runs the pipe command with "destination\ncode\n" on its stdin. */
static int deliver_pipe(mv_req *q, const char *destination, const char *code)
{
    apr_pool_t *p = q->r->pool;
    const char *argv[] = {PIPE_SHELL, "-c", q->cfg->otp_pipe_command, NULL};
    const char *input = apr_pstrcat(p, destination, "\n", code, "\n", NULL);
    const char *why = "could not be started";
    apr_procattr_t *attr;
    apr_proc_t proc;
    apr_status_t rv;

    if ((rv = apr_procattr_create(&attr, p)) != APR_SUCCESS ||
        (rv = apr_procattr_io_set(attr, APR_FULL_BLOCK, APR_NO_PIPE,
                                  APR_NO_PIPE)) != APR_SUCCESS ||
        (rv = apr_procattr_cmdtype_set(attr, APR_PROGRAM_ENV)) != APR_SUCCESS ||
        (rv = apr_procattr_error_check_set(attr, 1)) != APR_SUCCESS ||
        (rv = apr_proc_create(&proc, PIPE_SHELL, argv, NULL, attr, p)) !=
            APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, q->r,
                      "MV0402: OTP pipe command %s", why);
        return -1;
    }
    /* SIGPIPE is ignored in httpd children: a program that exits without
     * reading makes this write fail, which its exit status then explains. */
    apr_file_write_full(proc.in, input, strlen(input), NULL);
    apr_file_close(proc.in);
    if (pipe_wait(&proc, &why) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, q->r,
                      "MV0403: OTP pipe command %s (destination %s)", why,
                      destination);
        return -1;
    }
    return 0;
}

int mv_otp_deliver(mv_req *q, const char *destination, const char *code)
{
    switch (q->cfg->otp_delivery) {
    case MV_OTP_LOG:
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, q->r,
                      "MV0404: one-time code for %s: %s", destination, code);
        return 0;
    case MV_OTP_PIPE:
        return deliver_pipe(q, destination, code);
    default:
        return 0;
    }
}
