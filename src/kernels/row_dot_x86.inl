// The x86 kernels, written once and compiled twice: row_dot_avx2.cpp (AVX2 + FMA + F16C, 256-bit) and
// row_dot_avx512.cpp (AVX-512 with VNNI: 512-bit float loops, and the int8 dot products in one VPDPBUSD).
// The includer defines DSMOE_KERNEL_NS (a namespace for this copy's helpers), DSMOE_KERNEL_ISA and
// DSMOE_KERNEL_FILL (the function that fills a RowKernels with this copy's kernels).
//
// Block formats multiply as llama.cpp does (quant/vec_dot.cpp is the scalar twin): integer sums per block or
// sub-block, scaled in float. The weight block is unpacked to bytes once and dotted with every column.
// Byte offsets inside each block are those of quant/block_formats.h; rows are only 2-byte aligned, so every
// load is unaligned and scalars are copied out with memcpy.
#include <immintrin.h>

#include <cstring>

#include "kernels/row_dot.h"
#include "quant/quantize.h"

namespace dsmoe::kernels_detail {
namespace DSMOE_KERNEL_NS {
namespace {

using Bytes = const unsigned char*;

inline float load_f16(Bytes p) {
  uint16_t h;
  std::memcpy(&h, p, sizeof h);
  return _cvtsh_ss(h);
}
inline float load_f32(Bytes p) {
  float f;
  std::memcpy(&f, p, sizeof f);
  return f;
}
inline __m256i load32(Bytes p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
inline __m128i load16(Bytes p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Unsigned bytes (at most 127 each pair sum fits int16) times signed bytes, summed in fours into 8 int32.
inline __m256i dot_u8_s8(__m256i u, __m256i s) {
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
#else
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
#endif
}
// Signed x signed bytes: |x| times y carrying x's sign (x never -128: quantizers stay within +-127).
inline __m256i dot_s8(__m256i abs_x, __m256i x, __m256i y) { return dot_u8_s8(abs_x, _mm256_sign_epi8(y, x)); }

// 16 bytes of nibbles to 32 bytes: the low nibbles (elements 0-15), then the high ones (16-31).
inline __m256i unpack_nibbles(Bytes qs) {
  const __m128i b = load16(qs);
  return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(b, 4), b), _mm256_set1_epi8(0x0F));
}
// 32 bits to 32 bytes: 0xFF where bit i is set.
inline __m256i bits_to_bytes(Bytes p) {
  uint32_t bits;
  std::memcpy(&bits, p, sizeof bits);
#if defined(__AVX512BW__) && defined(__AVX512VL__)
  return _mm256_movm_epi8(__mmask32(bits));
#endif
  const __m256i which_byte = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0);
  const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32(int(bits)), which_byte);
  const __m256i other_bits = _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe);
  return _mm256_cmpeq_epi8(_mm256_or_si256(spread, other_bits), _mm256_set1_epi64x(-1));
}

// ---- legacy formats: 32 values a block ----------------------------------------------------------------------
// Q8_0 34 bytes: d@0 qs@2.  Q4_0 18: d@0 qs@2.  Q4_1 20: d@0 m@2 qs@4.  Q5_0 22: d@0 qh@2 qs@6.
// Q5_1 24: d@0 m@2 qh@4 qs@8.  Activations Q8_0 34: d@0 qs@2;  Q8_1 36: d@0 s@2 qs@4.
struct Q8_0 {
  static constexpr size_t kBytes = 34, kActBytes = 34, kActQs = 2;
  static constexpr bool kSigned = true, kOffset = false;
  static __m256i quants(Bytes b) { return load32(b + 2); }
};
struct Q4_0 {
  static constexpr size_t kBytes = 18, kActBytes = 34, kActQs = 2;
  static constexpr bool kSigned = true, kOffset = false;
  static __m256i quants(Bytes b) { return _mm256_sub_epi8(unpack_nibbles(b + 2), _mm256_set1_epi8(8)); }
};
struct Q4_1 {
  static constexpr size_t kBytes = 20, kActBytes = 36, kActQs = 4;
  static constexpr bool kSigned = false, kOffset = true;
  static __m256i quants(Bytes b) { return unpack_nibbles(b + 4); }
};
struct Q5_0 {
  static constexpr size_t kBytes = 22, kActBytes = 34, kActQs = 2;
  static constexpr bool kSigned = true, kOffset = false;
  // (low | high << 4) - 16: where the fifth bit is clear, the byte is the nibble with 0xF0 set.
  static __m256i quants(Bytes b) {
    return _mm256_or_si256(unpack_nibbles(b + 6), _mm256_andnot_si256(bits_to_bytes(b + 2), _mm256_set1_epi8(-16)));
  }
};
struct Q5_1 {
  static constexpr size_t kBytes = 24, kActBytes = 36, kActQs = 4;
  static constexpr bool kSigned = false, kOffset = true;
  static __m256i quants(Bytes b) {
    return _mm256_or_si256(unpack_nibbles(b + 8), _mm256_and_si256(bits_to_bytes(b + 4), _mm256_set1_epi8(16)));
  }
};

// sum over blocks of d_w d_a sum(q a) (+ m_w s_a for the formats with an offset), two accumulators a column.
template <typename F, int C>
void dot_legacy(Bytes w, Bytes act, size_t stride, int64_t n, float* out) {
  const int64_t blocks = n / 32;
  __m256 acc[C][2];
  float offset[C];
  for (int c = 0; c < C; ++c) acc[c][0] = acc[c][1] = _mm256_setzero_ps(), offset[c] = 0;
  for (int64_t b = 0; b < blocks; ++b) {
    const Bytes wb = w + size_t(b) * F::kBytes;
    const __m256i q = F::quants(wb);
    const __m256i abs_q = _mm256_sign_epi8(q, q);
    const float d = load_f16(wb);
    for (int c = 0; c < C; ++c) {
      const Bytes ab = act + size_t(c) * stride + size_t(b) * F::kActBytes;
      const __m256i y = load32(ab + F::kActQs);
      const __m256i sums = F::kSigned ? dot_s8(abs_q, q, y) : dot_u8_s8(q, y);
      __m256& a = acc[c][b & 1];
      a = _mm256_fmadd_ps(_mm256_set1_ps(d * load_f16(ab)), _mm256_cvtepi32_ps(sums), a);
      if constexpr (F::kOffset) offset[c] += load_f16(wb + 2) * load_f16(ab + 2);
    }
  }
  for (int c = 0; c < C; ++c) out[c] = hsum(_mm256_add_ps(acc[c][0], acc[c][1])) + offset[c];
}

// ---- rows in groups of eight (quant/interleave.h): Q8_0, Q4_0, Q4_K, Q6_K -----------------------------------------
#include "kernels/row_group_x86.inl"

// ---- K-quants: 256 values a super-block; activations Q8_K 292 bytes: d@0 (f32) qs@4 bsums@260 --------------
constexpr size_t kQ8KBytes = 292;

// The eight 6-bit scales and minimums of Q4_K/Q5_K (see quant/block_formats.h, k_scale_min).
inline void unpack_scale_min(Bytes s, uint8_t scale[8], uint8_t min[8]) {
  for (int j = 0; j < 4; ++j) {
    scale[j] = uint8_t(s[j] & 63);
    min[j] = uint8_t(s[j + 4] & 63);
    scale[j + 4] = uint8_t((s[j + 8] & 0xF) | ((s[j] >> 6) << 4));
    min[j + 4] = uint8_t((s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4));
  }
}

// min[j] * (bsums[2j] + bsums[2j+1]) for the eight sub-blocks, as 8 int32 (summed at the end of the row).
inline __m256i min_products(__m256i mins16, Bytes bsums) {
  // bsums are int16 pairs per sub-block; mins16 holds min[j] twice, so one madd multiplies and adds the pair.
  return _mm256_madd_epi16(load32(bsums), mins16);
}

// Q4_K 144 bytes: d@0 dmin@2 scales@4 qs@16.  Q5_K 176: d@0 dmin@2 scales@4 qh@16 qs@48.
template <bool kFifthBit, int C>
void dot_k_affine(Bytes w, Bytes act, size_t stride, int64_t n, float* out) {
  constexpr size_t kBytes = kFifthBit ? 176 : 144;
  constexpr size_t kQs = kFifthBit ? 48 : 16;
  const int64_t blocks = n / 256;
  __m256 acc[C], mins[C];
  for (int c = 0; c < C; ++c) acc[c] = mins[c] = _mm256_setzero_ps();
  const __m256i low4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
  for (int64_t b = 0; b < blocks; ++b) {
    const Bytes wb = w + size_t(b) * kBytes;
    uint8_t scale[8], min[8];
    unpack_scale_min(wb + 4, scale, min);
    // min[j] in int16 lanes 2j and 2j+1.
    const __m256i mins16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(min)),
                                                                  _mm_loadl_epi64(reinterpret_cast<const __m128i*>(min))));
    __m256i q[8];  // sub-block j's 32 quants as bytes
    for (int p = 0; p < 4; ++p) {
      const __m256i bytes = load32(wb + kQs + 32 * p);
      q[2 * p] = _mm256_and_si256(bytes, low4);
      q[2 * p + 1] = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low4);
      if constexpr (kFifthBit) {
        const __m256i high = load32(wb + 16);
        q[2 * p] = _mm256_or_si256(q[2 * p], _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(high, 2 * p), one), 4));
        q[2 * p + 1] =
            _mm256_or_si256(q[2 * p + 1], _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(high, 2 * p + 1), one), 4));
      }
    }
    const float d = load_f16(wb), dmin = load_f16(wb + 2);
    for (int c = 0; c < C; ++c) {
      const Bytes ab = act + size_t(c) * stride + size_t(b) * kQ8KBytes;
      __m256i sums = _mm256_setzero_si256();
      for (int j = 0; j < 8; ++j) {
        const __m256i products = _mm256_maddubs_epi16(q[j], load32(ab + 4 + 32 * j));
        sums = _mm256_add_epi32(sums, _mm256_madd_epi16(products, _mm256_set1_epi16(scale[j])));
      }
      const float ad = load_f32(ab);
      acc[c] = _mm256_fmadd_ps(_mm256_set1_ps(d * ad), _mm256_cvtepi32_ps(sums), acc[c]);
      mins[c] = _mm256_fmadd_ps(_mm256_set1_ps(dmin * ad), _mm256_cvtepi32_ps(min_products(mins16, ab + 260)), mins[c]);
    }
  }
  for (int c = 0; c < C; ++c) out[c] = hsum(acc[c]) - hsum(mins[c]);
}

// Q6_K 210 bytes: ql@0 qh@128 scales@192 (int8) d@208. Quarter k of half h (32 values from 128h + 32k): low
// bits in nibble k/2 of ql[64h + 32(k%2) + l], high bits 2k, 2k+1 of qh[32h + l]; value d * scale * (q - 32).
template <int C>
void dot_q6_k(Bytes w, Bytes act, size_t stride, int64_t n, float* out) {
  const int64_t blocks = n / 256;
  __m256 acc[C];
  for (int c = 0; c < C; ++c) acc[c] = _mm256_setzero_ps();
  const __m256i low4 = _mm256_set1_epi8(0x0F), three = _mm256_set1_epi8(3);
  for (int64_t b = 0; b < blocks; ++b) {
    const Bytes wb = w + size_t(b) * 210;
    __m256i q[8];  // 32 quants (0..63) from value 32i
    __m256i scale[8];  // the two sub-block scales of q[i], as int16 for each half of the 16 products
    for (int h = 0; h < 2; ++h) {
      const __m256i ql0 = load32(wb + 64 * h), ql1 = load32(wb + 64 * h + 32), qh = load32(wb + 128 + 32 * h);
      for (int k = 0; k < 4; ++k) {
        const __m256i ql = k % 2 == 0 ? ql0 : ql1;
        const __m256i low = k < 2 ? _mm256_and_si256(ql, low4) : _mm256_and_si256(_mm256_srli_epi16(ql, 4), low4);
        const __m256i high = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * k), three), 4);
        const int i = 4 * h + k;
        q[i] = _mm256_or_si256(low, high);
        const auto* s = reinterpret_cast<const int8_t*>(wb + 192 + 2 * i);
        scale[i] = _mm256_set_m128i(_mm_set1_epi16(s[1]), _mm_set1_epi16(s[0]));
      }
    }
    const __m256i scales16 = _mm256_cvtepi8_epi16(load16(wb + 192));
    const float d = load_f16(wb + 208);
    for (int c = 0; c < C; ++c) {
      const Bytes ab = act + size_t(c) * stride + size_t(b) * kQ8KBytes;
      __m256i sums = _mm256_setzero_si256();
      for (int i = 0; i < 8; ++i) {
        const __m256i products = _mm256_maddubs_epi16(q[i], load32(ab + 4 + 32 * i));
        sums = _mm256_add_epi32(sums, _mm256_madd_epi16(products, scale[i]));
      }
      // The -32 of every quant: 32 * sum over the sixteen sub-blocks of scale * (sum of their activations).
      const __m256i offset = _mm256_slli_epi32(_mm256_madd_epi16(scales16, load32(ab + 260)), 5);
      sums = _mm256_sub_epi32(sums, offset);
      acc[c] = _mm256_fmadd_ps(_mm256_set1_ps(d * load_f32(ab)), _mm256_cvtepi32_ps(sums), acc[c]);
    }
  }
  for (int c = 0; c < C; ++c) out[c] = hsum(acc[c]);
}

// ---- element formats: float32 activations ------------------------------------------------------------------
#if defined(__AVX512F__)
using VecF = __m512;
constexpr int kLanes = 16;
inline VecF zero_f() { return _mm512_setzero_ps(); }
inline VecF load_x(const float* p) { return _mm512_loadu_ps(p); }
inline VecF fma_f(VecF a, VecF b, VecF c) { return _mm512_fmadd_ps(a, b, c); }
inline float hsum_f(VecF v) { return _mm512_reduce_add_ps(v); }
template <DType T>
inline VecF load_w(Bytes p) {
  if constexpr (T == DType::F32) return _mm512_loadu_ps(p);
  if constexpr (T == DType::F16) return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(load32(p)), 16));
}
#else
using VecF = __m256;
constexpr int kLanes = 8;
inline VecF zero_f() { return _mm256_setzero_ps(); }
inline VecF load_x(const float* p) { return _mm256_loadu_ps(p); }
inline VecF fma_f(VecF a, VecF b, VecF c) { return _mm256_fmadd_ps(a, b, c); }
inline float hsum_f(VecF v) { return hsum(v); }
template <DType T>
inline VecF load_w(Bytes p) {
  if constexpr (T == DType::F32) return _mm256_loadu_ps(reinterpret_cast<const float*>(p));
  if constexpr (T == DType::F16) return _mm256_cvtph_ps(load16(p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(load16(p)), 16));
}
#endif

template <DType T>
inline float scalar_w(Bytes p, int64_t i) {
  if constexpr (T == DType::F32) return load_f32(p + 4 * i);
  if constexpr (T == DType::F16) return load_f16(p + 2 * i);
  uint16_t h;
  std::memcpy(&h, p + 2 * i, sizeof h);
  const uint32_t bits = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

template <DType T, int C>
void dot_elements(Bytes w, Bytes act, size_t stride, int64_t n, float* out) {
  constexpr size_t kSize = T == DType::F32 ? 4 : 2;
  const float* x[C];
  VecF acc[C][2];
  for (int c = 0; c < C; ++c) {
    x[c] = reinterpret_cast<const float*>(act + size_t(c) * stride);
    acc[c][0] = acc[c][1] = zero_f();
  }
  int64_t i = 0;
  for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
    const VecF w0 = load_w<T>(w + kSize * size_t(i)), w1 = load_w<T>(w + kSize * size_t(i + kLanes));
    for (int c = 0; c < C; ++c) {
      acc[c][0] = fma_f(w0, load_x(x[c] + i), acc[c][0]);
      acc[c][1] = fma_f(w1, load_x(x[c] + i + kLanes), acc[c][1]);
    }
  }
  for (int c = 0; c < C; ++c) {
    float tail = 0;
    for (int64_t j = i; j < n; ++j) tail += scalar_w<T>(w, j) * x[c][j];
    out[c] = hsum_f(acc[c][0]) + hsum_f(acc[c][1]) + tail;
  }
}

// Eight consecutive rows of an element format (row_bytes apart: the formats need no interleaving) against C
// float32 columns, in register blocks of R rows by all C columns, so that each weight vector loaded (and
// widened) serves every column and each column vector several rows; the row kernel above loads a column vector
// for every multiply-add. R x C accumulators: at most 8 of AVX2's 16 registers (1 column x 8 rows, 2 x 4, 3 or
// 4 x 2), at most 16 of AVX-512's 32 (8 rows for 1 or 2 columns, 4 for 3 or 4). Each (row, column) sum is one accumulator over the row's vectors in order, then its lanes, then
// the tail: the same operations whatever R and C, so a column's result does not depend on the columns beside it.
#if defined(__AVX512F__)
template <int C>
constexpr int kBlockRows = C <= 2 ? 8 : 4;
#else
template <int C>
constexpr int kBlockRows = C == 1 ? 8 : C == 2 ? 4 : 2;
#endif
template <DType T, int R, int C>
void element_block(Bytes w, size_t row_bytes, const float* const* x, int64_t n, float* out) {
  constexpr size_t kSize = T == DType::F32 ? 4 : 2;
  VecF acc[R][C];
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) acc[r][c] = zero_f();
  }
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    VecF xv[C];
    for (int c = 0; c < C; ++c) xv[c] = load_x(x[c] + i);
    for (int r = 0; r < R; ++r) {
      const VecF wv = load_w<T>(w + size_t(r) * row_bytes + kSize * size_t(i));
      for (int c = 0; c < C; ++c) acc[r][c] = fma_f(wv, xv[c], acc[r][c]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) {
      float tail = 0;
      for (int64_t j = i; j < n; ++j) tail += scalar_w<T>(w + size_t(r) * row_bytes, j) * x[c][j];
      out[c * 8 + r] = hsum_f(acc[r][c]) + tail;
    }
  }
}

template <DType T, int C>
void dot_element_rows(Bytes w, Bytes act, size_t stride, int64_t n, float* out) {
  constexpr size_t kSize = T == DType::F32 ? 4 : 2;
  constexpr int kRows = kBlockRows<C>;
  const size_t row_bytes = kSize * size_t(n);
  const float* x[C];
  for (int c = 0; c < C; ++c) x[c] = reinterpret_cast<const float*>(act + size_t(c) * stride);
  for (int r0 = 0; r0 < 8; r0 += kRows) element_block<T, kRows, C>(w + size_t(r0) * row_bytes, row_bytes, x, n, out + r0);
}

template <DType T>
void axpy(float a, const void* x, float* y, int64_t n) {
  const auto* bytes = static_cast<Bytes>(x);
  constexpr size_t kSize = T == DType::F32 ? 4 : 2;
  int64_t i = 0;
#if defined(__AVX512F__)
  const __m512 va = _mm512_set1_ps(a);
  for (; i + kLanes <= n; i += kLanes) {
    _mm512_storeu_ps(y + i, _mm512_fmadd_ps(va, load_w<T>(bytes + kSize * size_t(i)), _mm512_loadu_ps(y + i)));
  }
#else
  const __m256 va = _mm256_set1_ps(a);
  for (; i + kLanes <= n; i += kLanes) {
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, load_w<T>(bytes + kSize * size_t(i)), _mm256_loadu_ps(y + i)));
  }
#endif
  for (; i < n; ++i) y[i] += a * scalar_w<T>(bytes, i);
}

// A cache row widened to float32 (attention's tiles), sixteen or eight values per instruction.
template <DType T>
void widen(const void* x, float* y, int64_t n) {
  const auto* bytes = static_cast<Bytes>(x);
  constexpr size_t kSize = T == DType::F32 ? 4 : 2;
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
#if defined(__AVX512F__)
    _mm512_storeu_ps(y + i, load_w<T>(bytes + kSize * size_t(i)));
#else
    _mm256_storeu_ps(y + i, load_w<T>(bytes + kSize * size_t(i)));
#endif
  }
  for (; i < n; ++i) y[i] = scalar_w<T>(bytes, i);
}

void widen_q8_0(const void* x, float* y, int64_t n) { dequantize_row(DType::Q8_0, x, y, n); }

// Q8_0 rows (the KV cache's 8-bit type): y += (a * d) * q, eight values at a time.
void axpy_q8_0(float a, const void* x, float* y, int64_t n) {
  const auto* bytes = static_cast<Bytes>(x);
  for (int64_t b = 0; b < n / 32; ++b, bytes += 34) {
    const __m256 scale = _mm256_set1_ps(a * load_f16(bytes));
    float* dst = y + 32 * b;
    for (int part = 0; part < 4; ++part) {
      const __m256 q = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(bytes + 2 + 8 * part))));
      _mm256_storeu_ps(dst + 8 * part, _mm256_fmadd_ps(scale, q, _mm256_loadu_ps(dst + 8 * part)));
    }
  }
}

// ---- the table ------------------------------------------------------------------------------------------------
template <template <int> class K>
void by_columns(const void* w, const void* act, size_t stride, int columns, int64_t n, float* out) {
  const auto* wb = static_cast<Bytes>(w);
  const auto* ab = static_cast<Bytes>(act);
  switch (columns) {
    case 1:
      return K<1>::run(wb, ab, stride, n, out);
    case 2:
      return K<2>::run(wb, ab, stride, n, out);
    case 3:
      return K<3>::run(wb, ab, stride, n, out);
    default:
      return K<4>::run(wb, ab, stride, n, out);
  }
}

template <typename F>
struct Legacy {
  template <int C>
  struct K {
    static void run(Bytes w, Bytes a, size_t s, int64_t n, float* o) { dot_legacy<F, C>(w, a, s, n, o); }
  };
};
template <int C>
struct Q4_0Group {
  static void run(Bytes w, Bytes a, size_t s, int64_t n, float* o) { dot_q4_0_group<C>(w, a, s, n, o); }
};
template <int C>
struct Q8_0Group {
  static void run(Bytes w, Bytes a, size_t s, int64_t n, float* o) { dot_q8_0_group<C>(w, a, s, n, o); }
};
template <int C>
struct Q4_KGroup {
  static void run(Bytes w, Bytes a, size_t s, int64_t n, float* o) { dot_q4_k_group<C>(w, a, s, n, o); }
};
template <int C>
struct Q6_KGroup {
  static void run(Bytes w, Bytes a, size_t s, int64_t n, float* o) { dot_q6_k_group<C>(w, a, s, n, o); }
};
template <bool kFifthBit>
struct KAffine {
  template <int C>
  struct K {
    static void run(Bytes w, Bytes a, size_t s, int64_t n, float* o) { dot_k_affine<kFifthBit, C>(w, a, s, n, o); }
  };
};
template <int C>
struct Q6K {
  static void run(Bytes w, Bytes a, size_t s, int64_t n, float* o) { dot_q6_k<C>(w, a, s, n, o); }
};
template <DType T>
struct Elements {
  template <int C>
  struct K {
    static void run(Bytes w, Bytes a, size_t s, int64_t n, float* o) { dot_elements<T, C>(w, a, s, n, o); }
  };
  template <int C>
  struct Rows {
    static void run(Bytes w, Bytes a, size_t s, int64_t n, float* o) { dot_element_rows<T, C>(w, a, s, n, o); }
  };
};

}  // namespace
}  // namespace DSMOE_KERNEL_NS

// Only assignments of function addresses: no inline function compiled for this instruction set may reach
// code that runs before the CPU was checked (the linker keeps one copy of each inline function).
void DSMOE_KERNEL_FILL(RowKernels& k) {
  using namespace DSMOE_KERNEL_NS;
  k.isa = DSMOE_KERNEL_ISA;
  k.row_dot[int(DType::F32)] = by_columns<Elements<DType::F32>::K>;
  k.row_dot[int(DType::F16)] = by_columns<Elements<DType::F16>::K>;
  k.row_dot[int(DType::BF16)] = by_columns<Elements<DType::BF16>::K>;
  k.row_dot[int(DType::Q8_0)] = by_columns<Legacy<Q8_0>::K>;
  k.row_dot[int(DType::Q4_0)] = by_columns<Legacy<Q4_0>::K>;
  k.row_dot[int(DType::Q4_1)] = by_columns<Legacy<Q4_1>::K>;
  k.row_dot[int(DType::Q5_0)] = by_columns<Legacy<Q5_0>::K>;
  k.row_dot[int(DType::Q5_1)] = by_columns<Legacy<Q5_1>::K>;
  k.row_dot[int(DType::Q4_K)] = by_columns<KAffine<false>::K>;
  k.row_dot[int(DType::Q5_K)] = by_columns<KAffine<true>::K>;
  k.row_dot[int(DType::Q6_K)] = by_columns<Q6K>;
  k.group_dot[int(DType::F32)] = by_columns<Elements<DType::F32>::Rows>;
  k.group_dot[int(DType::F16)] = by_columns<Elements<DType::F16>::Rows>;
  k.group_dot[int(DType::BF16)] = by_columns<Elements<DType::BF16>::Rows>;
  k.group_dot[int(DType::Q8_0)] = by_columns<Q8_0Group>;
  k.group_dot[int(DType::Q4_0)] = by_columns<Q4_0Group>;
  k.group_dot[int(DType::Q4_K)] = by_columns<Q4_KGroup>;
  k.group_dot[int(DType::Q6_K)] = by_columns<Q6_KGroup>;
  k.row_axpy[int(DType::F32)] = axpy<DType::F32>;
  k.row_axpy[int(DType::F16)] = axpy<DType::F16>;
  k.row_axpy[int(DType::BF16)] = axpy<DType::BF16>;
  k.row_axpy[int(DType::Q8_0)] = axpy_q8_0;
  k.row_widen[int(DType::F32)] = widen<DType::F32>;
  k.row_widen[int(DType::F16)] = widen<DType::F16>;
  k.row_widen[int(DType::BF16)] = widen<DType::BF16>;
  k.row_widen[int(DType::Q8_0)] = widen_q8_0;
  k.attend_tile = attention::attend_tile;
  k.attend_row = attention::attend_row;
}

}  // namespace dsmoe::kernels_detail
