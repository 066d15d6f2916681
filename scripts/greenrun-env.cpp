// greenrun-env: greenrun's judge of GREEN_* values, built from the library's own grammar
// (hub/env.cpp), so that greenrun refuses exactly what the library would warn about.
//
//   greenrun-env NAME=VALUE...
//
// Exit status 0 when every VALUE is valid for its variable NAME; 1 when one is not: the first
// such NAME and the values it accepts are printed on stdout, one line each, for greenrun to
// word its refusal; 2 for a NAME that is not a GREEN_* variable or an argument without '='.
// Installed beside the library (LIBDIR/libgreen/), not on PATH: greenrun runs it, once.
#include <cstdio>
#include <cstring>

#include "../hub/env.h"

int main(int argc, char** argv)
{
    for (int i = 1; i < argc; i++) {
        const char* eq = strchr(argv[i], '=');
        int var = eq ? green::env_find(argv[i], size_t(eq - argv[i])) : -1;
        if (var < 0) {
            fprintf(stderr, "greenrun-env: not NAME=VALUE with a GREEN_* variable: %s\n", argv[i]);
            return 2;
        }
        green::EnvValue value;
        if (!green::env_parse(var, eq + 1, &value)) {
            printf("%s\n%s\n", green::env_specs[var].name, green::env_specs[var].rule);
            return 1;
        }
    }
    return 0;
}
