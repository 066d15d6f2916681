// x86-64 instruction lengths, for one question: may this code execute a `syscall` instruction?
//
// Syscall user dispatch (shim/rawsys.cpp) costs every system call of a thread that has it on,
// the C library's too, so libgreen turns it on only when loaded code outside the C library, the
// dynamic loader, the vDSO and libgreen may hold a `syscall` instruction.  A search for its two
// bytes (0f 05) is not enough: they occur inside other instructions (immediates, displacements,
// `movups` operands) in most large libraries (22 times in libm, once in libcares, none of them a
// system call).  So each such pair is decided by decoding the instructions from a known boundary
// before it (a section's start, a function's start from the unwind table) up to it: a pair that
// an instruction starts with (after its prefixes) is a system call; one inside an instruction is
// not.
//
// The decoder knows instruction lengths only (prefixes, REX, VEX, EVEX, XOP, the opcode maps,
// ModRM, SIB, displacements, immediates), not meanings.  It is conservative: an encoding it does
// not know, or that is invalid in 64-bit mode, makes the pair undecidable, which counts as a
// system call (dispatch on: correct, at the cost dispatch has).  Data inside code that a decode
// from the boundary walks through could hide a pair (hand-written assembly that keeps tables in
// its text, without unwind information): GREEN_SYSCALL_DISPATCH=on is the way out.
#ifndef GREEN_INSN_H
#define GREEN_INSN_H

#include <cstddef>
#include <cstdint>

namespace green {

// The length of the instruction at p (avail bytes readable there), or 0 when it cannot be
// decoded (unknown, invalid in 64-bit mode, or cut short).  *is_syscall: it is `syscall`.
int insn_length(const unsigned char* p, size_t avail, bool* is_syscall);

// What a decode tells about one instruction, for moving it elsewhere (shim/rawsite.cpp).
struct Insn {
    int length = 0;          // bytes; 0: not decoded
    bool is_syscall = false;  // `syscall`
    bool control = false;     // may go anywhere but the next instruction (a branch, call, return,
                              // interrupt, xbegin, ud2, syscall-like): never moved
    bool direct = false;      // a control transfer to ip + length + rel (a jump, jcc, call, loop)
    int64_t rel = 0;          // that displacement
    int rip_disp = -1;        // the offset of a RIP-relative operand's disp32, or -1
};

// Decodes the instruction at p (avail bytes readable there); false when it cannot be decoded.
bool insn_decode(const unsigned char* p, size_t avail, Insn* out);

// The greatest address at most addr known to start an instruction (a function's start), or 0
// when none is known; ctx is the caller's.
using InsnBoundary = uintptr_t (*)(uintptr_t addr, void* ctx);

// The first `syscall` instruction in the code [lo, hi), which must start at an instruction
// boundary, or the first pair 0f 05 that cannot be decided (see above); null when there is none.
// boundary (may be null) gives later places to decode from.
const unsigned char* find_syscall(const unsigned char* lo, const unsigned char* hi,
                                  InsnBoundary boundary, void* ctx);

}  // namespace green

#endif
