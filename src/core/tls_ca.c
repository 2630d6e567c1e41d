/*
 * tls_ca.c - checking a PEM CA bundle; see tls_ca.h.
 */
#include "core/tls_ca.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdio.h>

int tls_ca_file_check(const char *path, char *err, size_t errlen)
{
    BIO *in = BIO_new_file(path, "r");
    int count = 0;
    X509 *cert;

    if (!in) {
        snprintf(err, errlen, "cannot read %s", path);
        ERR_clear_error();
        return -1;
    }
    while ((cert = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL) {
        X509_free(cert);
        count++;
    }
    /* the loop ends at the end of the file (PEM_R_NO_START_LINE) or at a
     * certificate that does not parse */
    unsigned long e = ERR_peek_last_error();
    bool at_end = ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
    ERR_clear_error();
    BIO_free(in);
    if (count > 0 && (at_end || e == 0))
        return count;
    if (count == 0)
        snprintf(err, errlen, "%s holds no PEM certificate", path);
    else
        snprintf(err, errlen, "%s: certificate %d is damaged", path, count + 1);
    return -1;
}
