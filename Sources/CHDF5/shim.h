#ifndef DATASAN_CHDF5_SHIM_H
#define DATASAN_CHDF5_SHIM_H

// The only header Swift sees of libhdf5.
//
// Most of HDF5's constants are macros Swift cannot import: the type and property-list
// class ids expand to `(H5open(), H5T_NATIVE_FLOAT_g)` (a global that is -1 until
// H5open() runs, and not concurrency-safe in Swift 6), and H5P_DEFAULT / H5E_DEFAULT
// import as Int32 instead of hid_t. These accessors return them with the right type
// (see STYLE.md, "Pitfalls" 1-3). Every accessor is prefixed `datasan_`.

#include <hdf5.h>

// Defaults and flags.
static inline hid_t datasan_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t datasan_h5e_default(void) { return H5E_DEFAULT; }
static inline hid_t datasan_h5s_all(void) { return H5S_ALL; }
static inline hsize_t datasan_h5s_unlimited(void) { return H5S_UNLIMITED; }
static inline size_t datasan_h5t_variable(void) { return H5T_VARIABLE; }
static inline haddr_t datasan_haddr_undef(void) { return HADDR_UNDEF; }
static inline unsigned datasan_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned datasan_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }

// Property-list classes.
static inline hid_t datasan_h5p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t datasan_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t datasan_h5p_dataset_access(void) { return H5P_DATASET_ACCESS; }
static inline hid_t datasan_h5p_link_create(void) { return H5P_LINK_CREATE; }

// Native (memory) types.
static inline hid_t datasan_h5t_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t datasan_h5t_native_int8(void) { return H5T_NATIVE_INT8; }
static inline hid_t datasan_h5t_native_uint16(void) { return H5T_NATIVE_UINT16; }
static inline hid_t datasan_h5t_native_int16(void) { return H5T_NATIVE_INT16; }
static inline hid_t datasan_h5t_native_uint32(void) { return H5T_NATIVE_UINT32; }
static inline hid_t datasan_h5t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t datasan_h5t_native_uint64(void) { return H5T_NATIVE_UINT64; }
static inline hid_t datasan_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t datasan_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t datasan_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }

// Standard (file) types, little-endian, as h5py writes them on x86 and ARM.
static inline hid_t datasan_h5t_std_u8le(void) { return H5T_STD_U8LE; }
static inline hid_t datasan_h5t_std_i8le(void) { return H5T_STD_I8LE; }
static inline hid_t datasan_h5t_std_u16le(void) { return H5T_STD_U16LE; }
static inline hid_t datasan_h5t_std_i16le(void) { return H5T_STD_I16LE; }
static inline hid_t datasan_h5t_std_u32le(void) { return H5T_STD_U32LE; }
static inline hid_t datasan_h5t_std_i32le(void) { return H5T_STD_I32LE; }
static inline hid_t datasan_h5t_std_u64le(void) { return H5T_STD_U64LE; }
static inline hid_t datasan_h5t_std_i64le(void) { return H5T_STD_I64LE; }
static inline hid_t datasan_h5t_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t datasan_h5t_ieee_f64le(void) { return H5T_IEEE_F64LE; }
static inline hid_t datasan_h5t_ieee_f32be(void) { return H5T_IEEE_F32BE; }

// Strings (for attributes).
static inline hid_t datasan_h5t_c_s1(void) { return H5T_C_S1; }

#endif
