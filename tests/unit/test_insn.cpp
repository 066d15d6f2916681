// CMocka unit tests of hub/insn.cpp: instruction lengths, and the search for `syscall`
// instructions that tells a pair of bytes 0f 05 inside another instruction from a real one, and
// what a site's rewrite needs to know of the instructions it would move.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}

#include <cstring>
#include <vector>

#include "../../hub/insn.h"

using namespace green;

namespace {

struct Case {
    std::vector<unsigned char> bytes;
    int length;  // of the first instruction
};

void test_lengths(void**)
{
    static const Case cases[] = {
        {{0x0f, 0x05}, 2},                                            // syscall
        {{0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8}, 10},                   // movabs $imm64, %rax
        {{0x66, 0xb8, 1, 2}, 4},                                      // mov $imm16, %ax
        {{0xb8, 0x0f, 0x05, 0, 0}, 5},                                // mov $0x50f, %eax
        {{0xc5, 0xf8, 0x77}, 3},                                      // vzeroupper
        {{0xc4, 0xe2, 0x79, 0x18, 0x05, 1, 2, 3, 4}, 9},              // vbroadcastss x(%rip)
        {{0x62, 0xf1, 0x7c, 0x48, 0x10, 0x44, 0x24, 0x01}, 8},        // vmovups 0x40(%rsp), %zmm0
        {{0x66, 0x0f, 0x3a, 0x0f, 0xc1, 0x08}, 6},                    // palignr $8
        {{0xf6, 0xc3, 0x01}, 3},                                      // test $1, %bl
        {{0xf6, 0xd3}, 2},                                            // not %bl
        {{0xf7, 0xc0, 1, 2, 3, 4}, 6},                                // test $imm32, %eax
        {{0xc8, 0x10, 0x00, 0x00}, 4},                                // enter
        {{0xa1, 1, 2, 3, 4, 5, 6, 7, 8}, 9},                          // movabs moffs64, %eax
        {{0x67, 0xa1, 1, 2, 3, 4}, 6},                                // moffs32
        {{0x0f, 0x84, 1, 2, 3, 4}, 6},                                // je rel32
        {{0xe8, 1, 2, 3, 4}, 5},                                      // call rel32
        {{0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0}, 9},           // mov %fs:0x28, %rax
        {{0x0f, 0x1f, 0x44, 0x00, 0x00}, 5},                          // nopl 0(%rax,%rax)
        {{0x8b, 0x04, 0x05, 1, 2, 3, 4}, 7},                          // SIB without base: disp32
        {{0x48, 0x8b, 0x45, 0xf8}, 4},                                // mov -8(%rbp), %rax
        {{0xc3}, 1},                                                  // ret
        {{0x06}, 0},                                                  // push %es: invalid
        {{0x48, 0xb8, 1, 2}, 0},                                      // cut short
    };
    for (const Case& c : cases) {
        bool sys = true;
        int n = insn_length(c.bytes.data(), c.bytes.size(), &sys);
        assert_int_equal(n, c.length);
        assert_true(sys == (c.bytes[0] == 0x0f && c.bytes[1] == 0x05));
    }
    bool sys = false;
    const unsigned char rex_syscall[] = {0x48, 0x0f, 0x05};
    assert_int_equal(insn_length(rex_syscall, sizeof rex_syscall, &sys), 3);
    assert_true(sys);
}

const unsigned char* find(const std::vector<unsigned char>& code, InsnBoundary b = nullptr,
                          void* ctx = nullptr)
{
    return find_syscall(code.data(), code.data() + code.size(), b, ctx);
}

// Code: some padding, then the bytes of interest, then more padding (nops), so that the search
// runs both its sixteen-byte and its byte-at-a-time paths.
std::vector<unsigned char> padded(std::vector<unsigned char> middle, size_t before)
{
    std::vector<unsigned char> v(before, 0x90);
    v.insert(v.end(), middle.begin(), middle.end());
    v.insert(v.end(), 21, 0x90);
    return v;
}

void test_pairs_inside_instructions(void**)
{
    for (size_t before : {0, 3, 15, 16, 40}) {
        // In an immediate, a displacement, a ModRM operand: none is a system call.
        assert_null(find(padded({0xb8, 0x0f, 0x05, 0x00, 0x00}, before)));
        assert_null(find(padded({0x0f, 0x10, 0x05, 0x0f, 0x05, 0x00, 0x00}, before)));
        assert_null(find(padded({0x48, 0x8d, 0x0f, 0x05}, before)));  // lea (%rdi), %rcx; add
        // A real one, bare or prefixed, is found where its opcode is.
        auto code = padded({0x31, 0xc0, 0x0f, 0x05, 0xc3}, before);
        assert_ptr_equal(find(code), code.data() + before + 2);
        code = padded({0x48, 0x0f, 0x05}, before);
        assert_ptr_equal(find(code), code.data() + before + 1);
        // Undecodable bytes before a pair: it counts as one.
        code = padded({0x06, 0x0f, 0x05}, before);
        assert_ptr_equal(find(code), code.data() + before + 1);
    }
    // Nothing at all, and a pair cut by the end.
    assert_null(find(std::vector<unsigned char>(100, 0x90)));
    std::vector<unsigned char> tail(30, 0x90);
    tail.push_back(0x0f);
    assert_null(find(tail));
}

uintptr_t one_boundary(uintptr_t addr, void* ctx)
{
    auto start = reinterpret_cast<uintptr_t>(ctx);
    return addr >= start ? start : 0;
}

void test_decode_from_function_start(void**)
{
    // Bytes that are not code (a table in the text) followed by a function whose first
    // instruction is a system call: decoded from the section's start, the table's first byte
    // swallows the instruction; from the function's start, it is found.
    std::vector<unsigned char> code = {0xb8, 0x0f, 0x05, 0xc3, 0x90};
    code.insert(code.end(), 20, 0x90);
    assert_null(find(code));
    assert_ptr_equal(find(code, one_boundary, code.data() + 1), code.data() + 1);
}

// What the rewrite of a site (shim/rawsite.cpp) asks of an instruction it would move.
struct Facts {
    std::vector<unsigned char> bytes;
    int length;
    bool control, direct;
    int64_t rel;
    int rip_disp;
};

void test_facts_for_moving(void**)
{
    static const Facts cases[] = {
        {{0xe8, 0x10, 0, 0, 0}, 5, true, true, 16, -1},                  // call rel32
        {{0xeb, 0xfe}, 2, true, true, -2, -1},                           // jmp .
        {{0x74, 0x05}, 2, true, true, 5, -1},                            // je +5
        {{0x0f, 0x84, 0, 1, 0, 0}, 6, true, true, 256, -1},              // je rel32
        {{0xe3, 0x02}, 2, true, true, 2, -1},                            // jrcxz
        {{0xc3}, 1, true, false, 0, -1},                                 // ret
        {{0xff, 0xe0}, 2, true, false, 0, -1},                           // jmp *%rax
        {{0xff, 0x24, 0xc5, 0, 0, 0, 0}, 7, true, false, 0, -1},         // jmp *0(,%rax,8)
        {{0xff, 0xd0}, 2, true, false, 0, -1},                           // call *%rax
        {{0xff, 0x30}, 2, false, false, 0, -1},                          // push (%rax)
        {{0x0f, 0x05}, 2, true, false, 0, -1},                           // syscall
        {{0xc7, 0xf8, 0, 0, 0, 0}, 6, true, false, 0, -1},               // xbegin
        {{0x48, 0x89, 0xd0}, 3, false, false, 0, -1},                    // mov %rdx, %rax
        {{0x48, 0x8b, 0x05, 0x78, 0x56, 0x34, 0x12}, 7, false, false, 0, 3},  // mov x(%rip), %rax
        {{0xc7, 0x05, 0x10, 0, 0, 0, 1, 0, 0, 0}, 10, false, false, 0, 2},    // movl $1, x(%rip)
        {{0xc5, 0xf8, 0x10, 0x05, 0, 0, 0, 0}, 8, false, false, 0, 4},   // vmovups x(%rip), %xmm0
        {{0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0}, 8, false, false, 0, -1},  // mov 0, %rax (SIB, no base)
    };
    for (const Facts& c : cases) {
        Insn d;
        assert_true(insn_decode(c.bytes.data(), c.bytes.size(), &d));
        assert_int_equal(d.length, c.length);
        assert_int_equal(d.control, c.control);
        assert_int_equal(d.direct, c.direct);
        if (c.direct)
            assert_int_equal(d.rel, c.rel);
        assert_int_equal(d.rip_disp, c.rip_disp);
    }
}

}  // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_pairs_inside_instructions),
        cmocka_unit_test(test_decode_from_function_start),
        cmocka_unit_test(test_facts_for_moving),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
