/* Identity of this build, for the version resources of the DLLs. */
#ifndef SCHANNEL_GNUTLS_VERSION_H
#define SCHANNEL_GNUTLS_VERSION_H
#define SG_PRODUCT_NAME "schannel-gnutls"
#define SG_COMPANY_NAME "schannel-gnutls project"
#define SG_VERSION_NUMBERS 0,1,0,0
#define SG_VERSION_STRING "0.1.0"  /* keep in step with AC_INIT in configure.ac */
#endif
