/*
 * A Windows HIS in miniature: loads hisgw_dll.dll as a HIS loads its insurer's DLL (LoadLibrary, GetProcAddress,
 * __stdcall), reads its VERSION and VERSIONINFO, calls INIT once, then BUSINESS_HANDLE for each request read from
 * stdin. The tests run it under wine (tests/test_dll_windows.py); mingw builds it for 32 and 64 bits:
 *
 *   i686-w64-mingw32-gcc -O2 -o caller.exe dll/windows_caller.c -lversion
 *   wine caller.exe 'Z:\path\to\hisgw_dll.dll'      (hisgw_dll.ini beside the DLL)
 *
 * Lines out (bytes as the DLL wrote them, GBK):  version <VERSION()>  |  fileversion <FileVersion> <a.b.c.d>
 *                                                init <rc> <n>\n<n bytes of err>\n
 * Requests in, each answered by  rc <rc> guard <ok|overrun> ms <elapsed> n <n>\n<n bytes of out>\n :
 *   call <buffer> <n>\n<n bytes>            one call with an output buffer of <buffer> bytes; the bytes after it
 *                                           are watched ("overrun" if the DLL wrote there)
 *   threads <threads> <calls> <buffer> <n>\n<n bytes>   <threads> threads each making <calls> calls at once, the
 *                                           input's "@N@" replaced by "<thread>x<call>"; answers in any order
 */
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#define GUARD 64

typedef int(__stdcall *text_fn)(char *);
typedef int(__stdcall *handle_fn)(char *, char *);

static handle_fn g_handle;
static CRITICAL_SECTION g_print;

typedef struct {
    const char *input;
    size_t buffer, calls;
    int thread;
} job_t;

static void *symbol(HMODULE dll, const char *name) {
    FARPROC p = GetProcAddress(dll, name);
    if (p == NULL) {
        printf("missing %s\n", name);
        exit(2);
    }
    return (void *)p;
}

/* One BUSINESS_HANDLE into a buffer of `buffer` bytes followed by GUARD bytes that must stay untouched. */
static void call_once(const char *input, size_t buffer) {
    char *in = _strdup(input);
    unsigned char *out = (unsigned char *)malloc(buffer + GUARD);
    size_t i, n;
    int rc, overrun = 0;
    DWORD started;
    if (in == NULL || out == NULL) exit(3);
    memset(out, 0xAA, buffer + GUARD);
    started = GetTickCount();
    rc = g_handle(in, (char *)out);
    for (i = buffer; i < buffer + GUARD; i++) overrun |= out[i] != 0xAA;
    n = strnlen((const char *)out, buffer);
    EnterCriticalSection(&g_print);
    printf("rc %d guard %s ms %lu n %u\n", rc, overrun ? "overrun" : "ok", (unsigned long)(GetTickCount() - started),
           (unsigned)n);
    fwrite(out, 1, n, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    LeaveCriticalSection(&g_print);
    free(out);
    free(in);
}

static DWORD WINAPI run_job(LPVOID arg) {
    const job_t *job = (const job_t *)arg;
    const char *mark = strstr(job->input, "@N@");
    size_t c, len = strlen(job->input);
    char *text = (char *)malloc(len + 32);
    if (text == NULL) exit(3);
    for (c = 0; c < job->calls; c++) {
        if (mark == NULL) strcpy(text, job->input);
        else sprintf(text, "%.*s%dx%u%s", (int)(mark - job->input), job->input, job->thread, (unsigned)c, mark + 3);
        call_once(text, job->buffer);
    }
    free(text);
    return 0;
}

static char *read_bytes(size_t n) {
    char *text = (char *)malloc(n + 1);
    if (text == NULL || fread(text, 1, n, stdin) != n) exit(3);
    text[n] = '\0';
    return text;
}

static void file_version(const char *path) {
    DWORD ignored, size = GetFileVersionInfoSizeA(path, &ignored);
    char *info = size ? (char *)malloc(size) : NULL;
    char *text = NULL;
    VS_FIXEDFILEINFO *fixed = NULL;
    UINT len = 0;
    if (info == NULL || !GetFileVersionInfoA(path, 0, size, info) ||
        !VerQueryValueA(info, "\\StringFileInfo\\080404B0\\FileVersion", (void **)&text, &len) ||
        !VerQueryValueA(info, "\\", (void **)&fixed, &len)) {
        printf("fileversion none\n");
    } else {
        printf("fileversion %s %lu.%lu.%lu.%lu\n", text, (unsigned long)HIWORD(fixed->dwFileVersionMS),
               (unsigned long)LOWORD(fixed->dwFileVersionMS), (unsigned long)HIWORD(fixed->dwFileVersionLS),
               (unsigned long)LOWORD(fixed->dwFileVersionLS));
    }
    free(info);
}

int main(int argc, char **argv) {
    char err[256], version[64], command[32], line[128];
    HMODULE dll;
    text_fn init, get_version;
    int rc;
    if (argc != 2) {
        fprintf(stderr, "usage: %s DLL\n", argv[0]);
        return 2;
    }
    _setmode(_fileno(stdin), _O_BINARY);
    _setmode(_fileno(stdout), _O_BINARY);
    InitializeCriticalSection(&g_print);
    dll = LoadLibraryA(argv[1]);
    if (dll == NULL) {
        printf("LoadLibrary failed %lu\n", (unsigned long)GetLastError());
        return 2;
    }
    init = (text_fn)symbol(dll, "INIT");
    g_handle = (handle_fn)symbol(dll, "BUSINESS_HANDLE");
    get_version = (text_fn)symbol(dll, "VERSION");
    get_version(version);
    printf("version %s\n", version);
    file_version(argv[1]);
    memset(err, 0, sizeof err);
    rc = init(err);
    printf("init %d %u\n%s\n", rc, (unsigned)strlen(err), err);
    fflush(stdout);
    while (fgets(line, sizeof line, stdin) != NULL) {
        unsigned threads = 0, calls = 0, buffer = 0, n = 0;
        if (sscanf(line, "%31s", command) != 1) continue;
        if (strcmp(command, "call") == 0 && sscanf(line, "call %u %u", &buffer, &n) == 2) {
            char *input = read_bytes(n);
            call_once(input, buffer);
            free(input);
        } else if (strcmp(command, "threads") == 0 &&
                   sscanf(line, "threads %u %u %u %u", &threads, &calls, &buffer, &n) == 4 && threads <= 64) {
            HANDLE handles[64];
            job_t jobs[64];
            char *input = read_bytes(n);
            unsigned t;
            for (t = 0; t < threads; t++) {
                jobs[t].input = input, jobs[t].buffer = buffer, jobs[t].calls = calls, jobs[t].thread = (int)t;
                handles[t] = CreateThread(NULL, 0, run_job, &jobs[t], 0, NULL);
                if (handles[t] == NULL) return 3;
            }
            WaitForMultipleObjects(threads, handles, TRUE, INFINITE);
            for (t = 0; t < threads; t++) CloseHandle(handles[t]);
            free(input);
        } else {
            printf("bad request %s\n", command);
            return 2;
        }
    }
    return 0;
}
