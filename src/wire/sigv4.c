/* sigv4.c - credential scope parsing; see sigv4.h. */
#include "wire/sigv4.h"

#include <string.h>

static bool copy_field(const char **p, const char *end, char *out, size_t cap, char stop)
{
    const char *s = *p;
    const char *e = memchr(s, stop, (size_t)(end - s));
    if (!e)
        e = end;
    size_t n = (size_t)(e - s);
    if (n == 0 || n >= cap)
        return false;
    memcpy(out, s, n);
    out[n] = '\0';
    *p = e < end ? e + 1 : e;
    return true;
}

bool sigv4_parse_credential(const char *cred, sigv4_scope *scope)
{
    const char *end = cred + strcspn(cred, ", ");
    const char *p = cred;
    char terminal[16];

    memset(scope, 0, sizeof *scope);
    if (!copy_field(&p, end, scope->access_key, sizeof scope->access_key, '/') ||
        !copy_field(&p, end, scope->date, sizeof scope->date, '/') ||
        !copy_field(&p, end, scope->region, sizeof scope->region, '/') ||
        !copy_field(&p, end, scope->service, sizeof scope->service, '/') ||
        !copy_field(&p, end, terminal, sizeof terminal, '/'))
        return false;
    return strcmp(terminal, "aws4_request") == 0 && p == end;
}

bool sigv4_parse_authorization(const char *header, sigv4_scope *scope)
{
    const char *algo = "AWS4-HMAC-SHA256";
    const char *cred;

    if (!header || strncmp(header, algo, strlen(algo)) != 0)
        return false;
    cred = strstr(header, "Credential=");
    if (!cred)
        return false;
    return sigv4_parse_credential(cred + strlen("Credential="), scope);
}
