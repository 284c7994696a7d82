/*
 * hisgw_dll.h — what the hisgw DLL exports (dll/PROTOCOL.md). The HIS keeps its vendor's calls.
 *
 * On Windows every function is __stdcall with an undecorated name (INIT, not _INIT@4), in the 32-bit and the
 * 64-bit build alike, so PowerBuilder, Delphi, VB6 and C# declare it as they declared their vendor's DLL
 * (declarations/ in the release zip).
 *
 * Buffers (all GBK, NUL-terminated):
 *   err  at least HISGW_ERR_SIZE bytes: INIT writes at most 255 bytes and the NUL.
 *   out  at least out_size bytes, out_size being the value in hisgw_dll.ini (default 4096): BUSINESS_HANDLE
 *        never writes more. An answer that does not fit is not cut: out holds 应答超出输出缓冲区长度 and the call
 *        returns -1 (the trade may have taken effect: query it, dll/PROTOCOL.md).
 *   version  at least HISGW_VERSION_SIZE bytes: VERSION writes e.g. "hisgw_dll 0.1.0 win32".
 * Return codes: 0 success; -2 business error (out holds HGxxxx: and the reason); -1 system error, timeout or
 * answer too long: the trade's state is unknown until queried (dll/PROTOCOL.md "After BUSINESS_HANDLE returned -1").
 * Every function may be called from several threads at once; INIT reads the configuration once.
 */
#ifndef HISGW_DLL_H
#define HISGW_DLL_H

#define HISGW_ERR_SIZE 256
#define HISGW_OUT_SIZE_DEFAULT 4096
#define HISGW_VERSION_SIZE 64

#ifdef _WIN32
#define HISGW_CALL __stdcall
#ifdef HISGW_DLL_BUILD
#define HISGW_API __declspec(dllexport)
#else
#define HISGW_API __declspec(dllimport)
#endif
#else
#define HISGW_CALL
#define HISGW_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

HISGW_API int HISGW_CALL INIT(char *err);
HISGW_API int HISGW_CALL BUSINESS_HANDLE(char *in, char *out);
HISGW_API int HISGW_CALL VERSION(char *version);

#ifdef __cplusplus
}
#endif

#endif
