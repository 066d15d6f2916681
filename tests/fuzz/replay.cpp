// Replays fuzz inputs through a libFuzzer harness without libFuzzer: make test links every
// harness in tests/fuzz with this driver (g++, ASan+UBSan) and runs it on the harness's committed
// corpus, tests/fuzz/corpus/NAME/ (seeds and the input of every bug found), in seconds.
//
//   replay PATH...    each PATH a file, or a directory whose regular files are all run
//
// Calls LLVMFuzzerInitialize once if the harness defines it, then LLVMFuzzerTestOneInput on
// each input in name order.  Exits 0 if every input returned; a harness reports a difference
// or a broken property by aborting, as it does under libFuzzer.
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static void collect(const std::string &path, std::vector<std::string> &out) {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path.c_str(), strerror(errno));
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        out.push_back(path);
        return;
    }
    DIR *d = opendir(path.c_str());
    if (!d)
        return;
    std::vector<std::string> names;
    while (dirent *e = readdir(d))
        if (e->d_name[0] != '.')
            names.push_back(path + "/" + e->d_name);
    closedir(d);
    std::sort(names.begin(), names.end());
    for (auto &n : names)
        collect(n, out);
}

int main(int argc, char **argv) {
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    std::vector<std::string> inputs;
    for (int i = 1; i < argc; i++)
        collect(argv[i], inputs);
    if (inputs.empty()) {
        fprintf(stderr, "replay: no inputs\n");
        return 2;
    }
    for (auto &p : inputs) {
        std::ifstream f(p, std::ios::binary);
        std::vector<uint8_t> data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        LLVMFuzzerTestOneInput(data.data(), data.size());
    }
    printf("replay: %zu inputs\n", inputs.size());
    return 0;
}
