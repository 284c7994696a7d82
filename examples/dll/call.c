/* The smallest HIS: load the library as a HIS loads its vendor's DLL, INIT, one BUSINESS_HANDLE, print the answer.
 *
 *   make dll && cc -o build/dll-call examples/dll/call.c -ldl
 *   HISGW_DLL_CONFIG=examples/dll/neusoft-dll.ini build/dll-call build/libhisgw_dll.so \
 *       '9100^H43052100002^001^C01^HIS0001^430521^^1^'
 *
 * The input is passed through as given: a real HIS sends GBK (journey.py does), so keep the shell's input ASCII
 * or convert it (iconv -t GBK). The answer is printed as the library wrote it (GBK).
 */
#include <dlfcn.h>
#include <stdio.h>

typedef int (*init_fn)(char *err);
typedef int (*handle_fn)(char *in, char *out);

int main(int argc, char **argv) {
    static char err[256], out[8192]; /* out: as large as out_size in the .ini */
    if (argc != 3) {
        fprintf(stderr, "usage: %s LIBRARY INPUT\n", argv[0]);
        return 2;
    }
    void *library = dlopen(argv[1], RTLD_NOW);
    if (library == NULL) {
        fprintf(stderr, "%s\n", dlerror());
        return 2;
    }
    init_fn init = (init_fn)dlsym(library, "INIT");
    handle_fn handle = (handle_fn)dlsym(library, "BUSINESS_HANDLE");
    if (init == NULL || handle == NULL || init(err) != 0) {
        fprintf(stderr, "INIT failed: %s\n", err);
        return 2;
    }
    int rc = handle(argv[2], out);
    printf("rc=%d\n%s\n", rc, out);
    return rc == 0 ? 0 : 1;
}
