/*
 * gguf.h — hardened GGUF v3 reader and streaming writer (ggml docs/gguf.md).
 *
 * Reader: octo_gguf_parse() validates a whole file held in a caller-provided buffer (the exec
 * layer mmaps it) and keeps borrowed views into it: nothing is copied, so the buffer must
 * outlive the struct. Every count and length is checked against the bytes that remain before
 * anything is allocated, and against a named maximum below. Allocations (the KV and tensor
 * tables, sorted indexes, the offset table of every string array and the element table of
 * every array of arrays) are proportional to the input size. On failure the function returns
 * a negative OCTO_E* code and g->reason holds a human-readable explanation naming the
 * offending key or tensor.
 *
 * Lookups: keys and tensor names are found by binary search over sorted indexes (O(log n));
 * array elements, including strings of string arrays, by index in O(1).
 *
 * Writer: collect KVs and tensor descriptors, then octo_gguf_writer_emit() streams the header,
 * KVs, tensor infos, alignment padding and then each tensor's bytes (pulled from a callback,
 * one tensor at a time) to a write callback. Output is little-endian, strings are a u64 length
 * plus bytes without NUL, padding is zeros — what llama.cpp's gguf reader expects.
 *
 * The module assumes a little-endian host for the scalar array views (asserted at parse).
 */
#ifndef OCTO_INFER_GGUF_H
#define OCTO_INFER_GGUF_H

#include "base/buf.h"
#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCTO_GGUF_MAGIC 0x46554747u /* "GGUF" read as a little-endian u32 */
#define OCTO_GGUF_VERSION 3u
#define OCTO_GGUF_TENSORS_MAX 65536u
#define OCTO_GGUF_KV_MAX 65536u
#define OCTO_GGUF_KEY_MAX 65535u
/* ggml's GGML_MAX_NAME is 64 bytes including the NUL, so llama.cpp accepts at most 63. */
#define OCTO_GGUF_NAME_MAX 63u
#define OCTO_GGUF_DIMS_MAX 4u
/* Depth of arrays: 1 = a flat array, 2 = an array of arrays, ... */
#define OCTO_GGUF_DEPTH_MAX 4u
#define OCTO_GGUF_STRING_MAX (1u << 26) /* one string value (chat templates are KiB) */
#define OCTO_GGUF_ALIGN_DEFAULT 32u
#define OCTO_GGUF_ALIGN_MAX 65536u
/* Writer: bytes of KVs and tensor infos held in memory. */
#define OCTO_GGUF_META_MAX (1u << 28)
#define OCTO_GGUF_REASON_MAX 200u

/* Metadata value types (docs/gguf.md gguf_metadata_value_type). */
enum octo_gguf_vtype {
    OCTO_GGUF_U8 = 0,
    OCTO_GGUF_I8 = 1,
    OCTO_GGUF_U16 = 2,
    OCTO_GGUF_I16 = 3,
    OCTO_GGUF_U32 = 4,
    OCTO_GGUF_I32 = 5,
    OCTO_GGUF_F32 = 6,
    OCTO_GGUF_BOOL = 7,
    OCTO_GGUF_STRING = 8,
    OCTO_GGUF_ARRAY = 9,
    OCTO_GGUF_U64 = 10,
    OCTO_GGUF_I64 = 11,
    OCTO_GGUF_F64 = 12,
    OCTO_GGUF_VTYPE_COUNT = 13
};

/* ggml tensor types that this module can size. Others (IQ*, removed ids) are refused. */
enum octo_ggml_type {
    OCTO_GGML_F32 = 0,
    OCTO_GGML_F16 = 1,
    OCTO_GGML_Q4_0 = 2,
    OCTO_GGML_Q4_1 = 3,
    OCTO_GGML_Q5_0 = 6,
    OCTO_GGML_Q5_1 = 7,
    OCTO_GGML_Q8_0 = 8,
    OCTO_GGML_Q8_1 = 9,
    OCTO_GGML_Q2_K = 10,
    OCTO_GGML_Q3_K = 11,
    OCTO_GGML_Q4_K = 12,
    OCTO_GGML_Q5_K = 13,
    OCTO_GGML_Q6_K = 14,
    OCTO_GGML_Q8_K = 15,
    OCTO_GGML_I8 = 24,
    OCTO_GGML_I16 = 25,
    OCTO_GGML_I32 = 26,
    OCTO_GGML_I64 = 27,
    OCTO_GGML_F64 = 28,
    OCTO_GGML_BF16 = 30
};

/* A borrowed view of one metadata value. Scalars: `data` points at the little-endian bytes.
 * Strings: `data`/`len` are the bytes (not NUL-terminated). Arrays: elem_type and count;
 * read elements with octo_gguf_array_get(). The other fields are internal. */
struct octo_gguf_value {
    uint32_t type;
    uint32_t elem_type;
    uint64_t count;
    const uint8_t *data;
    uint64_t len;
    const uint64_t *str_off;             /* string arrays: offset of element i from data */
    const struct octo_gguf_value *items; /* arrays of arrays */
};

struct octo_gguf_kv {
    const char *key; /* not NUL-terminated */
    size_t key_len;
    struct octo_gguf_value value;
};

struct octo_gguf_tensor {
    const char *name; /* not NUL-terminated */
    size_t name_len;
    uint32_t type; /* enum octo_ggml_type */
    uint32_t n_dims;
    uint64_t ne[OCTO_GGUF_DIMS_MAX]; /* unused dimensions are 1; ne[0] is the row length */
    uint64_t n_elements;
    uint64_t offset; /* relative to the data section */
    uint64_t size;   /* bytes */
    const uint8_t *data;
};

struct octo_gguf {
    const uint8_t *buf;
    size_t len;
    uint32_t version;
    uint64_t n_kv;
    uint64_t n_tensors;
    struct octo_gguf_kv *kvs;         /* file order */
    uint32_t *kv_index;               /* kvs sorted by key */
    struct octo_gguf_tensor *tensors; /* file order */
    uint32_t *tensor_index;           /* tensors sorted by name */
    uint64_t alignment;
    size_t data_offset; /* start of the data section in buf */
    size_t data_size;
    struct octo_arena arena; /* array tables */
    char reason[OCTO_GGUF_REASON_MAX];
};

/* Block size (elements) and block byte size of a ggml type; false for an unknown type. */
bool octo_ggml_type_size(uint32_t type, uint64_t *block_elems, uint64_t *block_bytes);
/* Name of a ggml type ("Q8_0"), or "?" for an unknown one. */
const char *octo_ggml_type_name(uint32_t type);

/* Prepares an empty reader (safe to deinit). */
void octo_gguf_init(struct octo_gguf *g);
/* Frees the tables; the borrowed buffer is untouched. */
void octo_gguf_deinit(struct octo_gguf *g);

/* Parses and validates a GGUF v3 file in buf[0..len); g must be freshly initialised. On
 * success the views borrow buf. Errors (g->reason says why): OCTO_EMALFORMED bad magic,
 * truncation, a count or length larger than the bytes present, an invalid bool, bad value
 * type, n_dims outside 1..4, misaligned or out-of-range tensor data, overlapping tensors, a row
 * length that is not a multiple of the block, a bad general.alignment; OCTO_EUNSUPPORTED
 * version other than 3, unknown ggml type; OCTO_ETOOBIG a count, key, name, string or nesting
 * depth over its OCTO_GGUF_* maximum; OCTO_EEXIST duplicate key or tensor name; OCTO_ERANGE ne
 * product overflow; OCTO_ENOMEM. */
OCTO_MUST_USE int octo_gguf_parse(struct octo_gguf *g, const void *buf, size_t len);

/* The KV with this NUL-terminated key, or NULL. O(log n). */
const struct octo_gguf_kv *octo_gguf_find(const struct octo_gguf *g, const char *key);
/* The tensor with this NUL-terminated name, or NULL. O(log n). */
const struct octo_gguf_tensor *octo_gguf_find_tensor(const struct octo_gguf *g, const char *name);

/* Element i of an array value, as a value of the array's element type. O(1).
 * OCTO_EINVAL not an array, OCTO_ERANGE i >= count. */
OCTO_MUST_USE int octo_gguf_array_get(const struct octo_gguf_value *arr, uint64_t i,
                                      struct octo_gguf_value *out);

/* Value conversions. Integers convert between any integer types when the value fits
 * (OCTO_ERANGE otherwise); f32 accepts F32 only, f64 accepts F32 and F64, bool BOOL only,
 * str STRING only (the view is not NUL-terminated). A wrong type is OCTO_EINVAL. */
OCTO_MUST_USE int octo_gguf_value_u64(const struct octo_gguf_value *v, uint64_t *out);
OCTO_MUST_USE int octo_gguf_value_i64(const struct octo_gguf_value *v, int64_t *out);
OCTO_MUST_USE int octo_gguf_value_f32(const struct octo_gguf_value *v, float *out);
OCTO_MUST_USE int octo_gguf_value_f64(const struct octo_gguf_value *v, double *out);
OCTO_MUST_USE int octo_gguf_value_bool(const struct octo_gguf_value *v, bool *out);
OCTO_MUST_USE int octo_gguf_value_str(const struct octo_gguf_value *v, const char **s, size_t *len);

/* Typed getters by key: OCTO_ENOTFOUND when absent, else as the conversions above. */
OCTO_MUST_USE int octo_gguf_get_u32(const struct octo_gguf *g, const char *key, uint32_t *out);
OCTO_MUST_USE int octo_gguf_get_u64(const struct octo_gguf *g, const char *key, uint64_t *out);
OCTO_MUST_USE int octo_gguf_get_i32(const struct octo_gguf *g, const char *key, int32_t *out);
OCTO_MUST_USE int octo_gguf_get_f32(const struct octo_gguf *g, const char *key, float *out);
OCTO_MUST_USE int octo_gguf_get_bool(const struct octo_gguf *g, const char *key, bool *out);
OCTO_MUST_USE int octo_gguf_get_str(const struct octo_gguf *g, const char *key, const char **s,
                                    size_t *len);
/* An array by key: its element type and count; elements via octo_gguf_array_get on *arr.
 * OCTO_ENOTFOUND, OCTO_EINVAL when the value is not an array. */
OCTO_MUST_USE int octo_gguf_get_array(const struct octo_gguf *g, const char *key,
                                      const struct octo_gguf_value **arr);

/* ---- writer ---- */

/* The sink: writes all n bytes or returns a negative OCTO_E* code. */
typedef int (*octo_gguf_write_fn)(void *ctx, const void *p, size_t n);
/* Supplies tensor i's data: must call write(wctx, ...) with exactly the tensor's byte size in
 * total (in any number of pieces); returns 0 or a negative OCTO_E* code. */
typedef int (*octo_gguf_data_fn)(void *ctx, size_t i, octo_gguf_write_fn write, void *wctx);

struct octo_gguf_wtensor {
    char name[OCTO_GGUF_NAME_MAX + 1];
    uint32_t type;
    uint32_t n_dims;
    uint64_t ne[OCTO_GGUF_DIMS_MAX];
    uint64_t size;
    uint64_t offset;
};

struct octo_gguf_writer {
    struct octo_buf kv; /* encoded KVs */
    uint64_t n_kv;
    struct octo_buf keys; /* each key NUL-terminated, for duplicate checks */
    struct octo_gguf_wtensor *tensors;
    size_t n_tensors;
    size_t cap_tensors;
    uint64_t alignment;
    char reason[OCTO_GGUF_REASON_MAX];
};

void octo_gguf_writer_init(struct octo_gguf_writer *w);
void octo_gguf_writer_deinit(struct octo_gguf_writer *w);

/* Scalar KVs. Errors for every add: OCTO_EEXIST duplicate key, OCTO_ETOOBIG key over
 * OCTO_GGUF_KEY_MAX or metadata over OCTO_GGUF_META_MAX or too many KVs, OCTO_EINVAL empty
 * key, OCTO_ENOMEM. A u32 "general.alignment" also sets the writer's alignment and must be a
 * power of two from 8 to OCTO_GGUF_ALIGN_MAX (OCTO_EINVAL): stricter than the reader (any
 * multiple of 8), because llama.cpp accepts powers of two only. */
OCTO_MUST_USE int octo_gguf_writer_add_u8(struct octo_gguf_writer *w, const char *key, uint8_t v);
OCTO_MUST_USE int octo_gguf_writer_add_i8(struct octo_gguf_writer *w, const char *key, int8_t v);
OCTO_MUST_USE int octo_gguf_writer_add_u16(struct octo_gguf_writer *w, const char *key, uint16_t v);
OCTO_MUST_USE int octo_gguf_writer_add_i16(struct octo_gguf_writer *w, const char *key, int16_t v);
OCTO_MUST_USE int octo_gguf_writer_add_u32(struct octo_gguf_writer *w, const char *key, uint32_t v);
OCTO_MUST_USE int octo_gguf_writer_add_i32(struct octo_gguf_writer *w, const char *key, int32_t v);
OCTO_MUST_USE int octo_gguf_writer_add_f32(struct octo_gguf_writer *w, const char *key, float v);
OCTO_MUST_USE int octo_gguf_writer_add_bool(struct octo_gguf_writer *w, const char *key, bool v);
OCTO_MUST_USE int octo_gguf_writer_add_u64(struct octo_gguf_writer *w, const char *key, uint64_t v);
OCTO_MUST_USE int octo_gguf_writer_add_i64(struct octo_gguf_writer *w, const char *key, int64_t v);
OCTO_MUST_USE int octo_gguf_writer_add_f64(struct octo_gguf_writer *w, const char *key, double v);
/* A string of n bytes (s may hold any bytes; length at most OCTO_GGUF_STRING_MAX). */
OCTO_MUST_USE int octo_gguf_writer_add_str(struct octo_gguf_writer *w, const char *key,
                                           const char *s, size_t n);
/* An array of `count` fixed-size scalars of elem_type (not STRING or ARRAY), packed in host
 * (little-endian) order; bools must be 0 or 1. OCTO_EINVAL for a bad elem_type or bool. */
OCTO_MUST_USE int octo_gguf_writer_add_array(struct octo_gguf_writer *w, const char *key,
                                             uint32_t elem_type, const void *elems, uint64_t count);
/* An array of strings; lens may be NULL (then each string is NUL-terminated). */
OCTO_MUST_USE int octo_gguf_writer_add_str_array(struct octo_gguf_writer *w, const char *key,
                                                 const char *const *strs, const size_t *lens,
                                                 uint64_t count);
/* A value of any type already encoded (e.g. nested arrays built with the octo_gguf_encode_*
 * helpers). It is validated like the reader does: OCTO_EMALFORMED / OCTO_ETOOBIG if the bytes
 * are not exactly one valid value of `type`. */
OCTO_MUST_USE int octo_gguf_writer_add_value(struct octo_gguf_writer *w, const char *key,
                                             uint32_t type, const void *enc, size_t len);

/* Encoding helpers for octo_gguf_writer_add_value: an array head (elem_type, count), a string,
 * a fixed-size scalar of `type` from host memory. Errors of octo_buf_append; OCTO_EINVAL for a
 * type the helper cannot encode. */
OCTO_MUST_USE int octo_gguf_encode_array_head(struct octo_buf *b, uint32_t elem_type,
                                              uint64_t count);
OCTO_MUST_USE int octo_gguf_encode_str(struct octo_buf *b, const char *s, size_t n);
OCTO_MUST_USE int octo_gguf_encode_scalar(struct octo_buf *b, uint32_t type, const void *v);

/* Adds a tensor descriptor; its data offset follows the previous tensor's, aligned. Returns
 * the tensor's index (>= 0). OCTO_EINVAL bad name (empty), n_dims outside 1..4 or a row length
 * that is not a multiple of the block; OCTO_ETOOBIG name over OCTO_GGUF_NAME_MAX or too many
 * tensors; OCTO_EUNSUPPORTED unknown type; OCTO_ERANGE size overflow; OCTO_EEXIST duplicate
 * name; OCTO_ENOMEM. Offsets are assigned at emit time, so KVs and tensors may come in any
 * order. */
OCTO_MUST_USE int octo_gguf_writer_add_tensor(struct octo_gguf_writer *w, const char *name,
                                              uint32_t type, uint32_t n_dims, const uint64_t *ne);

/* Streams the file: header, KVs, tensor infos, zero padding to the alignment, then each
 * tensor's bytes from data(dctx, i, ...) in index order, each followed by zero padding to the
 * alignment. Errors: those of the callbacks; OCTO_EPROTO when a data callback wrote a byte
 * count other than the tensor's size; OCTO_ERANGE when the data section would overflow 64 bits.
 */
OCTO_MUST_USE int octo_gguf_writer_emit(struct octo_gguf_writer *w, octo_gguf_write_fn write,
                                        void *wctx, octo_gguf_data_fn data, void *dctx);

#endif
