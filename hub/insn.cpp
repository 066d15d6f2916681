#include "insn.h"

#include <emmintrin.h>

#include <cstring>
#include <initializer_list>

namespace green {

namespace {

// What follows an opcode byte: a ModRM byte (and its SIB and displacement), an immediate of
// 1, 2, 2 or 4 (z: by operand size), 2, 4 or 8 (v: by operand size and REX.W), 2 bytes, or a
// 4 or 8 byte address (moffs: by address size); or the opcode is invalid in 64-bit mode.
enum : uint8_t {
    M = 1,
    I8 = 2,
    IZ = 4,
    IV = 8,
    I16 = 16,
    MOFFS = 32,
    BAD = 64,
    GRP3 = 128,  // F6/F7: an immediate only for /0 and /1 (test)
};

struct Tables {
    uint8_t one[256];  // the one-byte map
    uint8_t two[256];  // the 0f map
};

constexpr Tables make_tables()
{
    Tables t{};
    // One-byte map.  00-3f: the eight ALU rows (x0-x3 ModRM, x4 imm8, x5 immz), segment pushes
    // and pops and BCD adjustments (invalid), the 0f escape and segment prefixes (handled first).
    for (int row = 0; row < 0x40; row += 8) {
        for (int k = 0; k < 4; k++)
            t.one[row + k] = M;
        t.one[row + 4] = I8;
        t.one[row + 5] = IZ;
    }
    for (int op : {0x06, 0x07, 0x0e, 0x16, 0x17, 0x1e, 0x1f, 0x27, 0x2f, 0x37, 0x3f})
        t.one[op] = BAD;
    t.one[0x60] = t.one[0x61] = BAD;
    t.one[0x63] = M;
    t.one[0x68] = IZ;
    t.one[0x69] = M | IZ;
    t.one[0x6a] = I8;
    t.one[0x6b] = M | I8;
    for (int op = 0x70; op < 0x80; op++)
        t.one[op] = I8;
    t.one[0x80] = M | I8;
    t.one[0x81] = M | IZ;
    t.one[0x82] = BAD;
    t.one[0x83] = M | I8;
    for (int op = 0x84; op < 0x90; op++)
        t.one[op] = M;
    t.one[0x9a] = BAD;
    for (int op = 0xa0; op < 0xa4; op++)
        t.one[op] = MOFFS;
    t.one[0xa8] = I8;
    t.one[0xa9] = IZ;
    for (int op = 0xb0; op < 0xb8; op++)
        t.one[op] = I8;
    for (int op = 0xb8; op < 0xc0; op++)
        t.one[op] = IV;
    t.one[0xc0] = t.one[0xc1] = M | I8;
    t.one[0xc2] = I16;
    t.one[0xc6] = M | I8;
    t.one[0xc7] = M | IZ;
    t.one[0xc8] = I16 | I8;  // enter
    t.one[0xca] = I16;
    t.one[0xcd] = I8;
    t.one[0xce] = BAD;
    for (int op = 0xd0; op < 0xd4; op++)
        t.one[op] = M;
    t.one[0xd4] = t.one[0xd5] = t.one[0xd6] = BAD;
    for (int op = 0xd8; op < 0xe0; op++)
        t.one[op] = M;  // x87
    for (int op = 0xe0; op < 0xe8; op++)
        t.one[op] = I8;  // loops, jrcxz, in, out
    t.one[0xe8] = t.one[0xe9] = IZ;
    t.one[0xea] = BAD;
    t.one[0xeb] = I8;
    t.one[0xf6] = M | GRP3 | I8;
    t.one[0xf7] = M | GRP3 | IZ;
    t.one[0xfe] = t.one[0xff] = M;

    // The 0f map: nearly everything has a ModRM byte.
    for (int op = 0; op < 256; op++)
        t.two[op] = M;
    for (int op : {0x04, 0x0a, 0x0c, 0x24, 0x25, 0x26, 0x27, 0x36, 0x39, 0x3b, 0x3c, 0x3d, 0x3e,
                   0x3f, 0x7a, 0x7b, 0xa6, 0xa7})
        t.two[op] = BAD;
    // syscall, clts, sysret, invd, wbinvd, ud2, femms, wrmsr .. sysexit, getsec, emms, push and
    // pop of fs and gs, cpuid, rsm, bswap: no operand bytes.
    for (int op : {0x05, 0x06, 0x07, 0x08, 0x09, 0x0b, 0x0e, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35,
                   0x37, 0x77, 0xa0, 0xa1, 0xa2, 0xa8, 0xa9, 0xaa})
        t.two[op] = 0;
    for (int op = 0xc8; op < 0xd0; op++)
        t.two[op] = 0;
    for (int op = 0x80; op < 0x90; op++)
        t.two[op] = IZ;  // jcc rel32
    for (int op : {0x0f, 0x70, 0x71, 0x72, 0x73, 0xa4, 0xac, 0xba, 0xc2, 0xc4, 0xc5, 0xc6})
        t.two[op] = M | I8;  // 0f 0f is 3DNow!, whose opcode is its last byte
    return t;
}

constexpr Tables kTables = make_tables();

bool is_legacy_prefix(unsigned char b)
{
    return b == 0x66 || b == 0x67 || b == 0xf0 || b == 0xf2 || b == 0xf3 || b == 0x2e ||
           b == 0x36 || b == 0x3e || b == 0x26 || b == 0x64 || b == 0x65;
}

// Opcodes of the VEX and EVEX 0f map with an imm8 (shifts by immediate, compares, shuffles,
// inserts and extracts).
bool map1_has_imm8(unsigned char op)
{
    return (op >= 0x70 && op <= 0x73) || op == 0xc2 || op == 0xc4 || op == 0xc5 || op == 0xc6;
}

// The bytes of a ModRM operand at p (the ModRM byte itself, a SIB, a displacement), or 0 when
// they run past avail.
size_t modrm_length(const unsigned char* p, size_t avail)
{
    if (avail < 1)
        return 0;
    unsigned mod = p[0] >> 6, rm = p[0] & 7;
    size_t n = 1;
    if (mod == 3)
        return n;
    if (rm == 4) {
        if (avail < 2)
            return 0;
        if (mod == 0 && (p[1] & 7) == 5)
            n += 4;  // SIB with no base: disp32
        n++;
    } else if (mod == 0 && rm == 5) {
        n += 4;  // RIP-relative
    }
    if (mod == 1)
        n += 1;
    else if (mod == 2)
        n += 4;
    return n <= avail ? n : 0;
}

}  // namespace

int insn_length(const unsigned char* p, size_t avail, bool* is_syscall)
{
    Insn d;
    bool ok = insn_decode(p, avail, &d);
    *is_syscall = d.is_syscall;
    return ok ? d.length : 0;
}

bool insn_decode(const unsigned char* p, size_t avail, Insn* out)
{
    *out = Insn{};
    size_t i = 0;
    bool opsize = false, adsize = false, rex_w = false;
    while (i < avail && is_legacy_prefix(p[i])) {
        opsize |= p[i] == 0x66;
        adsize |= p[i] == 0x67;
        if (++i > 14)
            return false;
    }
    if (i < avail && (p[i] & 0xf0) == 0x40) {
        rex_w = p[i] & 8;
        i++;
        // A prefix after REX, or a second REX: legal in odd ways or not at all; not decided.
        if (i < avail && (is_legacy_prefix(p[i]) || (p[i] & 0xf0) == 0x40))
            return false;
    }
    if (i >= avail)
        return false;
    unsigned char op = p[i++];
    uint8_t kind;
    size_t imm = 0;
    if (op == 0x0f) {
        if (i >= avail)
            return false;
        unsigned char op2 = p[i++];
        out->is_syscall = op2 == 0x05;
        // sysret, sysenter, sysexit, ud2 and the syscall itself end the straight line; jcc rel32.
        out->control = op2 == 0x05 || op2 == 0x07 || op2 == 0x34 || op2 == 0x35 || op2 == 0x0b;
        if (op2 >= 0x80 && op2 <= 0x8f)
            out->control = out->direct = true;
        if (op2 == 0x38 || op2 == 0x3a) {  // three-byte maps: ModRM; 0f 3a has an imm8
            if (i >= avail)
                return false;
            i++;
            kind = M | (op2 == 0x3a ? I8 : 0);
        } else {
            kind = kTables.two[op2];
        }
    } else if (op == 0xc4 || op == 0xc5 || op == 0x62 || (op == 0x8f && i < avail && (p[i] & 0x1f) >= 8)) {
        // VEX (c5: 2 bytes, c4: 3), EVEX (62: 4), XOP (8f with a map of 8 or more: 3); in
        // 64-bit mode c4, c5 and 62 are always these (les, lds and bound are gone).
        size_t payload = op == 0xc5 ? 1 : op == 0x62 ? 3 : 2;
        if (i + payload >= avail)
            return false;
        unsigned map = op == 0xc5 ? 1 : op == 0x62 ? (p[i] & 7) : (p[i] & 0x1f);
        unsigned char vop = p[i + payload];
        i += payload + 1;
        if (op == 0x8f)
            kind = map == 8 ? M | I8 : map == 9 ? M : map == 10 ? M | IZ : BAD;
        else if (map == 1)
            kind = (op != 0x62 && vop == 0x77) ? 0 : M | (map1_has_imm8(vop) ? I8 : 0);  // vzeroupper
        else if (map == 2 || (op == 0x62 && (map == 5 || map == 6)))
            kind = M;
        else if (map == 3)
            kind = M | I8;
        else
            kind = BAD;
        if (op == 0x8f && map == 10)
            opsize = false;  // XOP's imm32 is always 4 bytes
    } else {
        kind = kTables.one[op];
        // jcc rel8, loop and jrcxz, call and jmp rel: direct; returns, interrupts, far and
        // indirect transfers (ff /2 to /5): control.
        out->direct = (op >= 0x70 && op <= 0x7f) || (op >= 0xe0 && op <= 0xe3) || op == 0xe8 ||
                      op == 0xe9 || op == 0xeb;
        out->control = out->direct || op == 0xc2 || op == 0xc3 || op == 0xca || op == 0xcb ||
                       (op >= 0xcc && op <= 0xcf) ||
                       (op == 0xff && i < avail && ((p[i] >> 3) & 7) >= 2 && ((p[i] >> 3) & 7) <= 5) ||
                       (op == 0xc7 && i < avail && p[i] == 0xf8);  // xbegin rel32
    }
    if (kind & BAD)
        return false;
    if (kind & M) {
        size_t n = modrm_length(p + i, avail - i);
        if (!n)
            return false;
        if ((p[i] & 0xc7) == 0x05)  // mod 00, r/m 101: disp32 from the next instruction
            out->rip_disp = int(i + 1);
        if ((kind & GRP3) && ((p[i] >> 3) & 7) > 1)
            kind &= ~(I8 | IZ);  // not, neg, mul, imul, div, idiv: no immediate
        i += n;
    }
    if (kind & I8)
        imm += 1;
    if (kind & IZ)
        imm += opsize && !rex_w ? 2 : 4;
    if (kind & IV)
        imm += rex_w ? 8 : opsize ? 2 : 4;
    if (kind & I16)
        imm += 2;
    if (kind & MOFFS)
        imm += adsize ? 4 : 8;
    i += imm;
    if (i > avail)
        return false;
    out->length = int(i);
    if (out->direct) {
        // The displacement is the last imm bytes (1, or 2 or 4 by operand size).
        if (imm == 1)
            out->rel = int8_t(p[i - 1]);
        else if (imm == 2)
            out->rel = int16_t(p[i - 2] | p[i - 1] << 8);
        else {
            int32_t r;
            memcpy(&r, p + i - 4, 4);
            out->rel = r;
        }
    }
    return true;
}

const unsigned char* find_syscall(const unsigned char* lo, const unsigned char* hi,
                                  InsnBoundary boundary, void* ctx)
{
    const unsigned char* at = lo;  // the decode's position: an instruction boundary
    const unsigned char* c = lo;
    while (hi - c >= 2) {
        // The next pair 0f 05, sixteen bytes at a time.
        const unsigned char* pair = nullptr;
        if (hi - c >= 17) {
            __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(c));
            __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(c + 1));
            unsigned mask = unsigned(_mm_movemask_epi8(_mm_and_si128(
                _mm_cmpeq_epi8(a, _mm_set1_epi8(0x0f)), _mm_cmpeq_epi8(b, _mm_set1_epi8(0x05)))));
            if (!mask) {
                c += 16;
                continue;
            }
            pair = c + __builtin_ctz(mask);
        } else {
            for (; hi - c >= 2 && !pair; c++)
                if (c[0] == 0x0f && c[1] == 0x05)
                    pair = c;
            if (!pair)
                break;
        }
        c = pair + 1;
        if (boundary) {
            uintptr_t b = boundary(uintptr_t(pair), ctx);
            if (b > uintptr_t(at) && b <= uintptr_t(pair))
                at = reinterpret_cast<const unsigned char*>(b);
        }
        // Decode up to the pair: it is a system call when an instruction that reaches it is one.
        for (;;) {
            bool sys;
            int n = insn_length(at, size_t(hi - at), &sys);
            if (n == 0)
                return pair;  // undecidable: counted as one
            if (at + n > pair) {
                if (sys)
                    return pair;
                break;
            }
            at += n;
        }
    }
    return nullptr;
}

}  // namespace green
