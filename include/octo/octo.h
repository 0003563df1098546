/*
 * octo.h — the public umbrella header of libocto: version information. Module APIs are
 * still internal (the headers under src/) while their shape settles; they move here as they
 * become stable interfaces for SDKs.
 */
#ifndef OCTO_OCTO_H
#define OCTO_OCTO_H

#define OCTO_VERSION_MAJOR 0
#define OCTO_VERSION_MINOR 1
#define OCTO_VERSION_PATCH 0
#define OCTO_VERSION_STRING "0.1.0"

#endif
