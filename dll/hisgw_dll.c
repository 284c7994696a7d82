/*
 * hisgw_dll — a drop-in for a Neusoft-style vendor DLL.
 *
 * The HIS keeps calling INIT(err) and BUSINESS_HANDLE(in, out) exactly as it called its vendor's DLL; this
 * library forwards each call over TCP to the hisgw DLL listener, which hands the raw string to the dialect
 * named in the configuration. Protocol (dll/PROTOCOL.md):
 *   request  = u32 length (big-endian) | dialect name [ "|" paasid "|" timestamp "|" nonce "|" signature ]
 *              | NUL | the HIS's input bytes, untouched (GBK)
 *              (the signature part when the configuration names a paasid and secret: the national scheme,
 *              hex(sha256(timestamp + secret + nonce + timestamp)), computed with the system's crypto:
 *              OpenSSL's libcrypto, or Windows CNG)
 *   answer   = u32 length (big-endian) | i32 return code (big-endian) | the output bytes
 * Return codes: 0 success; -2 business error (out holds the error text); -1 system error or no answer in
 * time: the state of the transaction is unknown and the HIS must reverse (2601) or query it.
 *
 * Thread-safe: the configuration is read once under a lock; every call uses its own connection.
 * Never writes past the caller's output buffer: its size is `out_size` in the configuration (hisgw_dll.h).
 * On Windows the configuration is hisgw_dll.ini beside the DLL itself, as vendor DLLs keep theirs.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <bcrypt.h>
typedef SOCKET sock_t;
#define BAD_SOCKET INVALID_SOCKET
#define close_socket closesocket
static CRITICAL_SECTION g_lock;
static volatile LONG g_lock_ready = 0;
static void lock(void) {
    /* The first caller initialises the lock; any other thread arriving meanwhile waits for it. */
    if (InterlockedCompareExchange(&g_lock_ready, 1, 0) == 0) {
        InitializeCriticalSection(&g_lock);
        InterlockedExchange(&g_lock_ready, 2);
    }
    while (InterlockedCompareExchange(&g_lock_ready, 2, 2) != 2) Sleep(0);
    EnterCriticalSection(&g_lock);
}
static void unlock(void) { LeaveCriticalSection(&g_lock); }
#else
#include <fcntl.h>
#include <netdb.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
typedef int sock_t;
#define BAD_SOCKET (-1)
#define close_socket close
static pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;
static void lock(void) { pthread_mutex_lock(&g_mutex); }
static void unlock(void) { pthread_mutex_unlock(&g_mutex); }
#endif

#define HISGW_DLL_BUILD
#include "hisgw_dll.h"
#include "messages_gbk.h"

#ifndef HISGW_DLL_VERSION /* the Makefile passes pyproject.toml's version */
#define HISGW_DLL_VERSION "dev"
#endif
#if defined(_WIN64)
#define HISGW_PLATFORM "win64"
#elif defined(_WIN32)
#define HISGW_PLATFORM "win32"
#else
#define HISGW_PLATFORM "linux"
#endif

#define INIT_ERR_MAX HISGW_ERR_SIZE /* INIT's err buffer: the vendor convention gives no size, stay small */
#define MAX_ANSWER (16u << 20)    /* the listener never sends more; anything larger is a broken peer */

typedef struct {
    char host[256];
    char port[16];
    int timeout_ms;
    char dialect[64];
    char paasid[64];
    char secret[128];
    size_t out_size;
    int ready;
} config_t;

static unsigned long g_nonce_serial;

static config_t g_cfg;

static void put_text(char *dst, size_t cap, const char *text) {
    size_t n;
    if (dst == NULL || cap == 0) return;
    n = strlen(text);
    if (n >= cap) n = cap - 1;
    memcpy(dst, text, n);
    dst[n] = '\0';
}

static char *trim(char *s) {
    char *end;
    while (*s == ' ' || *s == '\t') s++;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n')) *--end = '\0';
    return s;
}

/* A value ends where a comment starts: ';' or '#' at its beginning or after a space or tab (so
 * `port = 8081   ; the listener` is 8081, as dll/hisgw_dll.ini.example writes it). */
static char *strip_comment(char *value) {
    char *p;
    for (p = value; *p != '\0'; p++) {
        if ((*p == ';' || *p == '#') && (p == value || p[-1] == ' ' || p[-1] == '\t')) {
            *p = '\0';
            break;
        }
    }
    return trim(value);
}

/* A whole decimal integer within [min, max]; 0 on success. */
static int parse_long(const char *text, long min, long max, long *out) {
    char *end;
    long v;
    errno = 0;
    if (*text == '\0') return -1;
    v = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max) return -1;
    *out = v;
    return 0;
}

/* Non-empty, no blank inside, and fits its field. */
static int plain_text(const char *value, size_t cap) {
    return *value != '\0' && strlen(value) < cap && strpbrk(value, " \t") == NULL ? 0 : -1;
}

/* "<file>: 配置项 <key> 不合法（"<value>"）：<what is wanted>"; the secret's value is never shown. */
static void bad_key(char *problem, size_t cap, const char *path, const char *key, const char *value,
                    const char *wanted) {
    if (strcmp(key, "secret") == 0)
        snprintf(problem, cap, "%s: %s %s %s: %s", path, MSG_CONFIG_KEY, key, MSG_CONFIG_BAD, wanted);
    else
        snprintf(problem, cap, "%s: %s %s %s (\"%.40s\"): %s", path, MSG_CONFIG_KEY, key, MSG_CONFIG_BAD, value,
                 wanted);
}

/* key = value lines; whole-line and inline comments ('#' or ';'); [sections] ignored. Every value is checked:
 * a problem fills `problem` naming the key, and INIT fails with it instead of every call failing later. */
static int read_config(const char *path, config_t *cfg, char *problem, size_t cap) {
    char line[512];
    long number;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(problem, cap, "%s %s", MSG_CONFIG_OPEN, path);
        return -1;
    }
    memset(cfg, 0, sizeof *cfg);
    strcpy(cfg->host, "127.0.0.1");
    strcpy(cfg->port, "8081");
    strcpy(cfg->dialect, "neusoft-dll");
    cfg->timeout_ms = 30000;
    cfg->out_size = 4096;
    while (fgets(line, sizeof line, f) != NULL) {
        char *key = trim(line), *value, *eq;
        const char *wanted = NULL;
        if (*key == '#' || *key == ';' || *key == '[' || *key == '\0') continue;
        eq = strchr(key, '=');
        if (eq == NULL) {
            fclose(f);
            snprintf(problem, cap, "%s: %s %.40s", path, MSG_CONFIG_UNKNOWN, strip_comment(key));
            return -1;
        }
        *eq = '\0';
        key = trim(key);
        value = strip_comment(eq + 1);
        if (strcmp(key, "host") == 0) {
            if (plain_text(value, sizeof cfg->host) == 0) put_text(cfg->host, sizeof cfg->host, value);
            else wanted = MSG_WANT_HOST;
        } else if (strcmp(key, "port") == 0) {
            if (parse_long(value, 1, 65535, &number) == 0) snprintf(cfg->port, sizeof cfg->port, "%ld", number);
            else wanted = MSG_WANT_PORT;
        } else if (strcmp(key, "timeout_ms") == 0) {
            if (parse_long(value, 1, 3600000, &number) == 0) cfg->timeout_ms = (int)number;
            else wanted = MSG_WANT_TIMEOUT;
        } else if (strcmp(key, "out_size") == 0) {
            if (parse_long(value, 2, 1073741824L, &number) == 0) cfg->out_size = (size_t)number;
            else wanted = MSG_WANT_OUT_SIZE;
        } else if (strcmp(key, "dialect") == 0) {
            if (plain_text(value, sizeof cfg->dialect) == 0) put_text(cfg->dialect, sizeof cfg->dialect, value);
            else wanted = MSG_WANT_TEXT;
        } else if (strcmp(key, "paasid") == 0) {
            if (plain_text(value, sizeof cfg->paasid) == 0) put_text(cfg->paasid, sizeof cfg->paasid, value);
            else wanted = MSG_WANT_TEXT;
        } else if (strcmp(key, "secret") == 0) {
            if (plain_text(value, sizeof cfg->secret) == 0) put_text(cfg->secret, sizeof cfg->secret, value);
            else wanted = MSG_WANT_TEXT;
        } else {
            fclose(f);
            snprintf(problem, cap, "%s: %s %.40s", path, MSG_CONFIG_UNKNOWN, key);
            return -1;
        }
        if (wanted != NULL) {
            fclose(f);
            bad_key(problem, cap, path, key, value, wanted);
            return -1;
        }
    }
    fclose(f);
    if ((cfg->paasid[0] == '\0') != (cfg->secret[0] == '\0')) { /* both or neither */
        bad_key(problem, cap, path, cfg->paasid[0] == '\0' ? "paasid" : "secret", "", MSG_WANT_PAIR);
        return -1;
    }
    return 0;
}

/* HISGW_DLL_CONFIG, else hisgw_dll.ini: beside the DLL on Windows, in the working directory elsewhere. */
static const char *config_path(char *buf, size_t cap) {
    const char *env = getenv("HISGW_DLL_CONFIG");
    if (env != NULL && *env != '\0') return env;
#ifdef _WIN32
    {
        HMODULE self = NULL;
        DWORD n;
        char *slash;
        if (GetModuleHandleExA(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                               (LPCSTR)(void *)&config_path, &self) &&
            (n = GetModuleFileNameA(self, buf, (DWORD)cap)) > 0 && n < cap && (slash = strrchr(buf, '\\')) != NULL &&
            (size_t)(slash - buf) + sizeof "\\hisgw_dll.ini" <= cap) {
            strcpy(slash + 1, "hisgw_dll.ini");
            return buf;
        }
    }
#endif
    put_text(buf, cap, "hisgw_dll.ini");
    return buf;
}

static long long now_ms(void) {
#ifdef _WIN32
    return (long long)GetTickCount64();
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
#endif
}

/* Wait until the socket is readable (or writable); 0 ready, -1 timeout or error. */
static int wait_for(sock_t s, int for_write, long long deadline) {
    long long left = deadline - now_ms();
    if (left <= 0) return -1;
#ifdef _WIN32
    {
        WSAPOLLFD p;
        p.fd = s;
        p.events = for_write ? POLLWRNORM : POLLRDNORM;
        p.revents = 0;
        return WSAPoll(&p, 1, (INT)left) > 0 ? 0 : -1;
    }
#else
    {
        struct pollfd p;
        int r;
        p.fd = s;
        p.events = for_write ? POLLOUT : POLLIN;
        p.revents = 0;
        do r = poll(&p, 1, (int)left); while (r < 0 && errno == EINTR);
        return r > 0 ? 0 : -1;
    }
#endif
}

static int set_nonblocking(sock_t s) {
#ifdef _WIN32
    u_long on = 1;
    return ioctlsocket(s, FIONBIO, &on) == 0 ? 0 : -1;
#else
    int flags = fcntl(s, F_GETFL, 0);
    return (flags >= 0 && fcntl(s, F_SETFL, flags | O_NONBLOCK) == 0) ? 0 : -1;
#endif
}

static sock_t connect_to(const config_t *cfg, long long deadline) {
    struct addrinfo hints, *found = NULL, *ai;
    sock_t s = BAD_SOCKET;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(cfg->host, cfg->port, &hints, &found) != 0) return BAD_SOCKET;
    for (ai = found; ai != NULL; ai = ai->ai_next) {
        int err = 0;
        socklen_t len = sizeof err;
        s = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (s == BAD_SOCKET) continue;
        if (set_nonblocking(s) == 0 && (connect(s, ai->ai_addr, (int)ai->ai_addrlen) == 0 ||
            (wait_for(s, 1, deadline) == 0 && getsockopt(s, SOL_SOCKET, SO_ERROR, (char *)&err, &len) == 0 && err == 0)))
            break;
        close_socket(s);
        s = BAD_SOCKET;
    }
    freeaddrinfo(found);
    return s;
}

static int send_all(sock_t s, const char *buf, size_t len, long long deadline) {
    while (len > 0) {
        int n;
        if (wait_for(s, 1, deadline) != 0) return -1;
        n = (int)send(s, buf, (int)(len > 65536 ? 65536 : len), 0);
        if (n <= 0) return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int recv_all(sock_t s, char *buf, size_t len, long long deadline) {
    while (len > 0) {
        int n;
        if (wait_for(s, 0, deadline) != 0) return -1;
        n = (int)recv(s, buf, (int)(len > 65536 ? 65536 : len), 0);
        if (n <= 0) return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* hex(sha256(text)) into hex[65]; 0 on success. The digest is the system's, never our own. */
static int sha256_hex(const char *text, char hex[65]) {
    unsigned char digest[32];
    int i;
#ifdef _WIN32
    BCRYPT_ALG_HANDLE alg = NULL;
    if (!BCRYPT_SUCCESS(BCryptOpenAlgorithmProvider(&alg, BCRYPT_SHA256_ALGORITHM, NULL, 0))) return -1;
    if (!BCRYPT_SUCCESS(BCryptHash(alg, NULL, 0, (PUCHAR)text, (ULONG)strlen(text), digest, sizeof digest))) {
        BCryptCloseAlgorithmProvider(alg, 0);
        return -1;
    }
    BCryptCloseAlgorithmProvider(alg, 0);
#else
    unsigned int len = 0;
    if (EVP_Digest(text, strlen(text), digest, &len, EVP_sha256(), NULL) != 1 || len != sizeof digest) return -1;
#endif
    for (i = 0; i < 32; i++) sprintf(hex + 2 * i, "%02x", digest[i]);
    hex[64] = '\0';
    return 0;
}

/* The frame's name part: the dialect, and the signature headers when credentials are configured. */
static int name_part(const config_t *cfg, char *name, size_t cap) {
    char ts[24], nonce[64], hex[65], text[sizeof cfg->secret + 128];
    unsigned long serial;
    if (cfg->paasid[0] == '\0') {
        put_text(name, cap, cfg->dialect);
        return 0;
    }
    lock();
    serial = ++g_nonce_serial;
    unlock();
    snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
    snprintf(nonce, sizeof nonce, "%llx-%lx-%lx", (unsigned long long)now_ms(), serial, (unsigned long)clock());
    snprintf(text, sizeof text, "%s%s%s%s", ts, cfg->secret, nonce, ts);
    if (sha256_hex(text, hex) != 0) return -1;
    if ((size_t)snprintf(name, cap, "%s|%s|%s|%s|%s", cfg->dialect, cfg->paasid, ts, nonce, hex) >= cap) return -1;
    return 0;
}

static uint32_t get_u32(const unsigned char *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static void put_u32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

HISGW_API int HISGW_CALL INIT(char *err) {
    int rc = 0;
    char path[1024];
    char problem[INIT_ERR_MAX] = MSG_CONFIG;
    lock();
    if (!g_cfg.ready) {
        config_t fresh;
#ifdef _WIN32
        WSADATA wsa;
        if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) rc = -1;
#endif
        if (rc == 0 && read_config(config_path(path, sizeof path), &fresh, problem, sizeof problem) != 0) rc = -1;
        if (rc == 0) {
            g_cfg = fresh;
            g_cfg.ready = 1;
        }
    }
    unlock();
    put_text(err, INIT_ERR_MAX, rc == 0 ? "" : problem);
    return rc;
}

HISGW_API int HISGW_CALL BUSINESS_HANDLE(char *in, char *out) {
    config_t cfg;
    char name[512];
    size_t in_len, name_len, frame_len;
    unsigned char head[8];
    unsigned char *frame;
    char *answer;
    uint32_t answer_len;
    int32_t rc;
    long long deadline;
    sock_t s;

    lock();
    cfg = g_cfg;
    unlock();
    if (!cfg.ready) {
        put_text(out, 256, MSG_NOT_INIT);
        return -1;
    }
    if (in == NULL) in = "";
    in_len = strlen(in);
    if (name_part(&cfg, name, sizeof name) != 0) {
        put_text(out, cfg.out_size, MSG_IO);
        return -1;
    }
    name_len = strlen(name);
    frame_len = 4 + name_len + 1 + in_len;
    frame = (unsigned char *)malloc(frame_len);
    if (frame == NULL) {
        put_text(out, cfg.out_size, MSG_IO);
        return -1;
    }
    put_u32(frame, (uint32_t)(frame_len - 4));
    memcpy(frame + 4, name, name_len);
    frame[4 + name_len] = '\0';
    memcpy(frame + 5 + name_len, in, in_len);

    deadline = now_ms() + cfg.timeout_ms;
    s = connect_to(&cfg, deadline);
    if (s == BAD_SOCKET) {
        free(frame);
        put_text(out, cfg.out_size, MSG_CONNECT);
        return -1;
    }
    if (send_all(s, (const char *)frame, frame_len, deadline) != 0 || recv_all(s, (char *)head, 8, deadline) != 0) {
        int timed_out = now_ms() >= deadline;
        free(frame);
        close_socket(s);
        put_text(out, cfg.out_size, timed_out ? MSG_TIMEOUT : MSG_IO);
        return -1;
    }
    free(frame);
    answer_len = get_u32(head);
    rc = (int32_t)get_u32(head + 4);
    if (answer_len < 4 || answer_len > MAX_ANSWER || (rc != 0 && rc != -1 && rc != -2)) {
        close_socket(s);
        put_text(out, cfg.out_size, MSG_BAD_ANSWER);
        return -1;
    }
    answer_len -= 4;
    if ((size_t)answer_len + 1 > cfg.out_size) {
        /* Never write past the caller's buffer; the transaction did happen, so the HIS must query/reverse. */
        close_socket(s);
        put_text(out, cfg.out_size, MSG_TOO_LONG);
        return -1;
    }
    answer = (char *)malloc((size_t)answer_len + 1);
    if (answer == NULL || recv_all(s, answer, answer_len, deadline) != 0) {
        int timed_out = now_ms() >= deadline;
        free(answer);
        close_socket(s);
        put_text(out, cfg.out_size, timed_out ? MSG_TIMEOUT : MSG_IO);
        return -1;
    }
    close_socket(s);
    memcpy(out, answer, answer_len);
    out[answer_len] = '\0';
    free(answer);
    return (int)rc;
}

/* "hisgw_dll <version> <platform>", so a hospital's IT can tell which build is installed (also in the
 * VERSIONINFO resource of the Windows builds: Explorer's Properties → Details). */
HISGW_API int HISGW_CALL VERSION(char *version) {
    put_text(version, HISGW_VERSION_SIZE, "hisgw_dll " HISGW_DLL_VERSION " " HISGW_PLATFORM);
    return 0;
}
