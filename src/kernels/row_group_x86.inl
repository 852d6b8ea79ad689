// The eight-row kernels of the x86 instruction sets (RowKernels::group_dot), included by row_dot_x86.inl inside
// its namespace (it uses that file's load helpers and dot_u8_s8): rows interleaved in groups of eight as
// quant/interleave.h lays them out, lane r of every vector holding row r, so that a row's sum never has to be
// gathered across lanes. quant/interleave.cpp's dot_group_scalar is the twin the tests compare them with.

// acc + u x s, summed in fours into 8 int32 (one VPDPBUSD where the CPU has VNNI).
inline __m256i add_dot_u8_s8(__m256i acc, __m256i u, __m256i s) {
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
  return _mm256_dpbusd_epi32(acc, u, s);
#else
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
#endif
}
// Whether the int8 products go through VPDPBUSD; without it (AVX2) each is VPMADDUBSW (pairs summed into int16)
// then VPMADDWD (into int32), and the kernels below add up to eight pair sums of 4-bit weights in int16 first
// (8 x 2 x 15 x 127 = 30480 < 32767: nothing saturates or wraps) and widen once: a third fewer instructions.
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
inline constexpr bool kHasVnni = true;
#else
inline constexpr bool kHasVnni = false;
#endif
inline __m256i widen_pair_sums(__m256i pairs) { return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)); }

inline __m256i broadcast4(Bytes p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return _mm256_set1_epi32(v);
}

// Lane r is row r throughout: each piece's nibbles (0..15) are dotted with the four activation bytes of their
// elements, broadcast to every lane; the weights' -8 comes off per block as 8 x the sum of the block's activation
// quants (the same for every row), and the activation's scale is a float: both from the group activations'
// trailer (quant/interleave.h), two broadcasts per column. Then one multiply by the eight rows' scales,
// converted together.
template <int C>
void dot_q4_0_group(Bytes g, Bytes act, size_t stride, int64_t n, float* out) {
  const __m256i low = _mm256_set1_epi8(0x0F);
  const Bytes trailer = act + size_t(n / 32) * 34;
  __m256 acc[C];
  for (int c = 0; c < C; ++c) acc[c] = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / 32; ++b) {
    const Bytes block = g + size_t(b) * 144;
    const __m256 d = _mm256_cvtph_ps(load16(block));
    __m256i lo[4], hi[4];
    for (int j = 0; j < 4; ++j) {
      const __m256i q = load32(block + 16 + 32 * j);
      lo[j] = _mm256_and_si256(q, low);
      hi[j] = _mm256_and_si256(_mm256_srli_epi16(q, 4), low);
    }
    for (int c = 0; c < C; ++c) {
      const Bytes ab = act + size_t(c) * stride + size_t(b) * 34;
      const Bytes at = trailer + size_t(c) * stride + size_t(b) * 8;
      __m256i sum = _mm256_setzero_si256();
      if constexpr (kHasVnni) {
        for (int j = 0; j < 4; ++j) sum = add_dot_u8_s8(sum, lo[j], broadcast4(ab + 2 + 4 * j));
        for (int j = 0; j < 4; ++j) sum = add_dot_u8_s8(sum, hi[j], broadcast4(ab + 18 + 4 * j));
      } else {
        __m256i pairs = _mm256_maddubs_epi16(lo[0], broadcast4(ab + 2));
        for (int j = 1; j < 4; ++j) pairs = _mm256_add_epi16(pairs, _mm256_maddubs_epi16(lo[j], broadcast4(ab + 2 + 4 * j)));
        for (int j = 0; j < 4; ++j) pairs = _mm256_add_epi16(pairs, _mm256_maddubs_epi16(hi[j], broadcast4(ab + 18 + 4 * j)));
        sum = widen_pair_sums(pairs);
      }
      sum = _mm256_sub_epi32(sum, broadcast4(at + 4));
      acc[c] = _mm256_fmadd_ps(_mm256_mul_ps(d, _mm256_set1_ps(load_f32(at))), _mm256_cvtepi32_ps(sum), acc[c]);
    }
  }
  for (int c = 0; c < C; ++c) _mm256_storeu_ps(out + 8 * c, acc[c]);
}

// Q8_0 in groups of eight rows: signed weights times signed activations as |w| times a carrying w's sign (the
// activation quantizer stays within +-127, so VPSIGNB never meets -128; a weight's -128 reads as |w| = 128), so
// each pair sum fits int16 but two do not: each piece widens on its own. The activation's scale comes from the trailer as a float (its offset is not needed).
template <int C>
void dot_q8_0_group(Bytes g, Bytes act, size_t stride, int64_t n, float* out) {
  const Bytes trailer = act + size_t(n / 32) * 34;
  __m256 acc[C];
  for (int c = 0; c < C; ++c) acc[c] = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / 32; ++b) {
    const Bytes block = g + size_t(b) * 272;
    const __m256 d = _mm256_cvtph_ps(load16(block));
    __m256i sum[C];
    for (int c = 0; c < C; ++c) sum[c] = _mm256_setzero_si256();
    for (int j = 0; j < 8; ++j) {
      const __m256i w = load32(block + 16 + 32 * j);
      const __m256i abs_w = _mm256_abs_epi8(w);
      for (int c = 0; c < C; ++c) {
        const Bytes ab = act + size_t(c) * stride + size_t(b) * 34;
        sum[c] = add_dot_u8_s8(sum[c], abs_w, _mm256_sign_epi8(broadcast4(ab + 2 + 4 * j), w));
      }
    }
    for (int c = 0; c < C; ++c) {
      const Bytes at = trailer + size_t(c) * stride + size_t(b) * 8;
      acc[c] = _mm256_fmadd_ps(_mm256_mul_ps(d, _mm256_set1_ps(load_f32(at))), _mm256_cvtepi32_ps(sum[c]), acc[c]);
    }
  }
  for (int c = 0; c < C; ++c) _mm256_storeu_ps(out + 8 * c, acc[c]);
}

// Q4_K in groups of eight rows (quant/interleave.h), against Q8_K activations (d@0 f32, qs@4) with their trailer
// of eight sums per super-block. As the Q4_0 kernel, lane r is row r: per sub-block, each row's integer sum of
// q x a in its lane, times the row's 6-bit scale (the eight rows' scales of a sub-block unpack together); the
// minimums meet the trailer's sums two sub-blocks per VPMADDWD (a lane's minimums as an int16 pair).
template <int C>
void dot_q4_k_group(Bytes g, Bytes act, size_t stride, int64_t n, float* out) {
  const __m256i low4 = _mm256_set1_epi8(0x0F), low4_32 = _mm256_set1_epi32(15), two_bits = _mm256_set1_epi32(3);
  const Bytes trailer = act + size_t(n / 256) * 292;
  __m256 acc[C], mins[C];
  for (int c = 0; c < C; ++c) acc[c] = mins[c] = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / 256; ++b) {
    const Bytes block = g + size_t(b) * 1152;
    const __m256 d = _mm256_cvtph_ps(load16(block)), dmin = _mm256_cvtph_ps(load16(block + 16));
    const __m256i high = load32(block + 96);
    // scale[j]: sub-block j's scales, as int32 (VNNI) or as the same int16 twice, so that one VPMADDWD both
    // widens the int16 pair sums and multiplies them; min_pairs[i]: the minimums of sub-blocks 2i and 2i+1.
    __m256i scale[8], min_pairs[4];
    for (int j = 0; j < 8; ++j) {
      const __m256i low = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(block + 32 + 8 * j)));
      scale[j] = _mm256_or_si256(_mm256_and_si256(low, low4_32),
                                 _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(high, 2 * j), two_bits), 4));
      if constexpr (!kHasVnni) scale[j] = _mm256_or_si256(scale[j], _mm256_slli_epi32(scale[j], 16));
      const __m256i min = _mm256_or_si256(
          _mm256_srli_epi32(low, 4), _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(high, 16 + 2 * j), two_bits), 4));
      min_pairs[j / 2] = j % 2 == 0 ? min : _mm256_or_si256(min_pairs[j / 2], _mm256_slli_epi32(min, 16));
    }
    Bytes ab[C];
    __m256i total[C];
    for (int c = 0; c < C; ++c) ab[c] = act + size_t(c) * stride + size_t(b) * 292, total[c] = _mm256_setzero_si256();
    for (int p = 0; p < 4; ++p) {  // sub-blocks 2p (low nibbles) and 2p+1 (high nibbles)
      __m256i even[C], odd[C];  // int32 sums with VNNI; without, int16 pair sums
      for (int c = 0; c < C; ++c) even[c] = odd[c] = _mm256_setzero_si256();
      for (int k = 0; k < 8; ++k) {
        const __m256i q = load32(block + 128 + 32 * (8 * p + k));
        const __m256i lo = _mm256_and_si256(q, low4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
        for (int c = 0; c < C; ++c) {
          const __m256i a_even = broadcast4(ab[c] + 4 + 64 * p + 4 * k);
          const __m256i a_odd = broadcast4(ab[c] + 4 + 64 * p + 32 + 4 * k);
          if constexpr (kHasVnni) {
            even[c] = add_dot_u8_s8(even[c], lo, a_even);
            odd[c] = add_dot_u8_s8(odd[c], hi, a_odd);
          } else {
            even[c] = _mm256_add_epi16(even[c], _mm256_maddubs_epi16(lo, a_even));
            odd[c] = _mm256_add_epi16(odd[c], _mm256_maddubs_epi16(hi, a_odd));
          }
        }
      }
      for (int c = 0; c < C; ++c) {
        if constexpr (kHasVnni) {
          total[c] = _mm256_add_epi32(total[c], _mm256_add_epi32(_mm256_mullo_epi32(even[c], scale[2 * p]),
                                                                 _mm256_mullo_epi32(odd[c], scale[2 * p + 1])));
        } else {
          total[c] = _mm256_add_epi32(total[c], _mm256_add_epi32(_mm256_madd_epi16(even[c], scale[2 * p]),
                                                                 _mm256_madd_epi16(odd[c], scale[2 * p + 1])));
        }
      }
    }
    for (int c = 0; c < C; ++c) {
      const Bytes at = trailer + size_t(c) * stride + size_t(b) * 16;
      __m256i min_sum = _mm256_madd_epi16(min_pairs[0], broadcast4(at));
      for (int i = 1; i < 4; ++i) min_sum = _mm256_add_epi32(min_sum, _mm256_madd_epi16(min_pairs[i], broadcast4(at + 4 * i)));
      const __m256 ad = _mm256_set1_ps(load_f32(ab[c]));
      acc[c] = _mm256_fmadd_ps(_mm256_mul_ps(d, ad), _mm256_cvtepi32_ps(total[c]), acc[c]);
      mins[c] = _mm256_fmadd_ps(_mm256_mul_ps(dmin, ad), _mm256_cvtepi32_ps(min_sum), mins[c]);
    }
  }
  for (int c = 0; c < C; ++c) _mm256_storeu_ps(out + 8 * c, _mm256_sub_ps(acc[c], mins[c]));
}

// Q6_K in groups of eight rows (quant/interleave.h). Per sub-block of 16, four runs of four elements, each
// assembled from its low nibbles and top two bits for all eight rows at once; the -32 of every quant comes off
// as 32 x Q8_K's sum of the sub-block's activations, then the rows' int8 scales multiply in their lanes.
template <int C>
void dot_q6_k_group(Bytes g, Bytes act, size_t stride, int64_t n, float* out) {
  const __m256i low4 = _mm256_set1_epi8(0x0F), three = _mm256_set1_epi8(3);
  __m256 acc[C];
  for (int c = 0; c < C; ++c) acc[c] = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / 256; ++b) {
    const Bytes block = g + size_t(b) * 1680;
    const __m256 d = _mm256_cvtph_ps(load16(block));
    Bytes ab[C];
    __m256i total[C];
    for (int c = 0; c < C; ++c) ab[c] = act + size_t(c) * stride + size_t(b) * 292, total[c] = _mm256_setzero_si256();
    for (int s = 0; s < 16; ++s) {
      const __m256i scale = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(block + 16 + 8 * s)));
      const Bytes p = block + 144 + 96 * s;
      const __m256i lows01 = load32(p), lows23 = load32(p + 32), highs = load32(p + 64);
      __m256i q[4];
      q[0] = _mm256_and_si256(lows01, low4);
      q[1] = _mm256_and_si256(_mm256_srli_epi16(lows01, 4), low4);
      q[2] = _mm256_and_si256(lows23, low4);
      q[3] = _mm256_and_si256(_mm256_srli_epi16(lows23, 4), low4);
      for (int j = 0; j < 4; ++j) {
        q[j] = _mm256_or_si256(q[j], _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(highs, 2 * j), three), 4));
      }
      for (int c = 0; c < C; ++c) {
        __m256i sum = _mm256_setzero_si256();
        for (int j = 0; j < 4; ++j) sum = add_dot_u8_s8(sum, q[j], broadcast4(ab[c] + 4 + 16 * s + 4 * j));
        int16_t activation_sum;
        std::memcpy(&activation_sum, ab[c] + 260 + 2 * s, sizeof activation_sum);
        sum = _mm256_sub_epi32(sum, _mm256_set1_epi32(32 * activation_sum));
        total[c] = _mm256_add_epi32(total[c], _mm256_mullo_epi32(sum, scale));
      }
    }
    for (int c = 0; c < C; ++c) {
      acc[c] = _mm256_fmadd_ps(_mm256_mul_ps(d, _mm256_set1_ps(load_f32(ab[c]))), _mm256_cvtepi32_ps(total[c]), acc[c]);
    }
  }
  for (int c = 0; c < C; ++c) _mm256_storeu_ps(out + 8 * c, acc[c]);
}
