/*
 * Routes are relative to the <Location> whose SetHandler serves the API
 * (README, "Installing"): a second httpd that also serves the module
 * under <Location "/api/">, as the Debian package's configuration does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define NAME "location"

static char base[64];
static char conf[] = "/tmp/mvlocation.XXXXXX";

static int start_instance(void **state)
{
    char *port = NULL;
    int fd = mkstemp(conf);
    (void)state;
    if (fd < 0) {
        return -1;
    }
    /* After the test configuration's <Location "/">, so this one is the
     * innermost for /api/...; the trailing slash is not part of the base. */
    dprintf(fd, "<Location \"/api/\">\n"
                "    SetHandler mocaverse\n"
                "</Location>\n");
    close(fd);
    chmod(conf, 0644);
    if (mv_env(&port, "httpd-start %s %s", NAME, conf) != 0) {
        fprintf(stderr, "could not start %s: %s\n", NAME, port);
        free(port);
        return -1;
    }
    snprintf(base, sizeof(base), "http://127.0.0.1:%s", port);
    free(port);
    return 0;
}

static int stop_instance(void **state)
{
    (void)state;
    mv_env(NULL, "httpd-stop %s", NAME);
    unlink(conf);
    return 0;
}

static void routes_are_relative_to_the_handlers_location(void **state)
{
    mv_resp *r = mv_http_at(base, "GET", "/api/version", NULL, NULL);
    (void)state;
    assert_int_equal(r->status, 200);
    assert_string_equal(mv_json_str(r, "name"), "mod_mocaverse");
    mv_resp_free(r);

    r = mv_http_at(base, "POST", "/api/auth/login-with-email",
                   "{\"email\":\"nobody@example.com\",\"password\":\"x\"}",
                   NULL);
    mv_assert_error(r, 401, "invalid_credentials");
    mv_resp_free(r);
}

static void location_prefix_is_not_a_route(void **state)
{
    const char *paths[] = {"/api/api/version", "/api/", "/api/health/"};
    (void)state;
    for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
        mv_resp *r = mv_http_at(base, "GET", paths[i], NULL, NULL);
        mv_assert_error(r, 404, "not_found");
        mv_resp_free(r);
    }
}

static void root_location_still_serves_from_the_root(void **state)
{
    mv_resp *r = mv_http_at(base, "GET", "/version", NULL, NULL);
    (void)state;
    assert_int_equal(r->status, 200);
    assert_string_equal(mv_json_str(r, "name"), "mod_mocaverse");
    mv_resp_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(routes_are_relative_to_the_handlers_location),
        cmocka_unit_test(location_prefix_is_not_a_route),
        cmocka_unit_test(root_location_still_serves_from_the_root),
    };
    mv_harness_init();
    return cmocka_run_group_tests(tests, start_instance, stop_instance);
}
