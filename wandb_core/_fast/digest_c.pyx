# cython: language_level=3, boundscheck=False, wraparound=False
# cython: initializedcheck=False
"""File and buffer digests, compiled twin of ``digest_py``.

Same public names, results and exceptions as the pure twin, which explains
the design and owns what needs no speed (the result and error types, the
change check, the batching of ``hash_files``). Here files are opened from
Python, which handles any path on any system, and read in C into one
buffer with the GIL released. MD5 is computed by our own C code (RFC 1321,
scheduled for a short dependency chain; tested against hashlib), so that a
whole file is hashed without taking the GIL back: a big file runs at full
speed while other threads hash small files. On POSIX systems a batch of
small files is opened, read, hashed and closed in C without the GIL at all.
SHA-256 uses hashlib, whose OpenSSL code uses the CPU's SHA instructions
and releases the GIL itself.
"""

import hashlib
import os
import threading

from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.exc cimport PyErr_CheckSignals
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.unicode cimport PyUnicode_DecodeASCII
from libc.errno cimport errno
from libc.stdint cimport int64_t
from libc.string cimport strerror

# The types and the checks that need no speed live once, in the pure twin.
from wandb_core._fast.digest_py import (
    CHUNK_SIZE,
    SMALL_FILE_SIZE,
    FileChangedError,  # no-cython-lint (exported: both twins raise it)
    FileDigest,
    check_unchanged,
    file_sizes,
    open_to_read,
    plan_batches,
    run_batches,
)

cdef extern from *:
    """
    #include <errno.h>
    #include <stdint.h>
    #include <string.h>
    #ifdef _WIN32
    #include <io.h>
    #else
    #include <fcntl.h>
    #include <sys/stat.h>
    #include <unistd.h>
    #endif

    typedef struct {
        uint32_t state[4];
        uint64_t size;  /* bytes hashed so far */
        unsigned char tail[64];  /* the bytes of an unfinished block */
    } wandb_core_md5;

    #define WANDB_CORE_ROTL(x, s) (((x) << (s)) | ((x) >> (32 - (s))))
    /* The message word, the constant and whatever does not involve b are
       added first: they need not wait for the previous step, which keeps
       the chain of dependent operations of each step short. G's OR of two
       disjoint masks is an addition, so its two halves are added apart. */
    #define WANDB_CORE_MD5_F(a, b, c, d, x, k, s) \\
        a += (x) + (k) + ((d) ^ ((b) & ((c) ^ (d)))); \\
        a = WANDB_CORE_ROTL(a, s) + (b)
    #define WANDB_CORE_MD5_G(a, b, c, d, x, k, s) \\
        a += (x) + (k) + ((c) & ~(d)); \\
        a += (b) & (d); \\
        a = WANDB_CORE_ROTL(a, s) + (b)
    #define WANDB_CORE_MD5_H(a, b, c, d, x, k, s) \\
        a += (x) + (k) + ((b) ^ (c) ^ (d)); \\
        a = WANDB_CORE_ROTL(a, s) + (b)
    #define WANDB_CORE_MD5_I(a, b, c, d, x, k, s) \\
        a += (x) + (k) + ((c) ^ ((b) | ~(d))); \\
        a = WANDB_CORE_ROTL(a, s) + (b)

    static void wandb_core_md5_blocks(
        uint32_t state[4], const unsigned char *data, size_t blocks
    ) {
        uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
        uint32_t m[16];
        int i;
        for (; blocks; blocks--, data += 64) {
            uint32_t a0 = a, b0 = b, c0 = c, d0 = d;
            /* Little-endian words on any machine; compilers make these
               plain loads where the machine is little-endian. */
            for (i = 0; i < 16; i++) {
                m[i] = (uint32_t)data[4 * i]
                    | ((uint32_t)data[4 * i + 1] << 8)
                    | ((uint32_t)data[4 * i + 2] << 16)
                    | ((uint32_t)data[4 * i + 3] << 24);
            }
        WANDB_CORE_MD5_F(a, b, c, d, m[0], 0xd76aa478U, 7);
        WANDB_CORE_MD5_F(d, a, b, c, m[1], 0xe8c7b756U, 12);
        WANDB_CORE_MD5_F(c, d, a, b, m[2], 0x242070dbU, 17);
        WANDB_CORE_MD5_F(b, c, d, a, m[3], 0xc1bdceeeU, 22);
        WANDB_CORE_MD5_F(a, b, c, d, m[4], 0xf57c0fafU, 7);
        WANDB_CORE_MD5_F(d, a, b, c, m[5], 0x4787c62aU, 12);
        WANDB_CORE_MD5_F(c, d, a, b, m[6], 0xa8304613U, 17);
        WANDB_CORE_MD5_F(b, c, d, a, m[7], 0xfd469501U, 22);
        WANDB_CORE_MD5_F(a, b, c, d, m[8], 0x698098d8U, 7);
        WANDB_CORE_MD5_F(d, a, b, c, m[9], 0x8b44f7afU, 12);
        WANDB_CORE_MD5_F(c, d, a, b, m[10], 0xffff5bb1U, 17);
        WANDB_CORE_MD5_F(b, c, d, a, m[11], 0x895cd7beU, 22);
        WANDB_CORE_MD5_F(a, b, c, d, m[12], 0x6b901122U, 7);
        WANDB_CORE_MD5_F(d, a, b, c, m[13], 0xfd987193U, 12);
        WANDB_CORE_MD5_F(c, d, a, b, m[14], 0xa679438eU, 17);
        WANDB_CORE_MD5_F(b, c, d, a, m[15], 0x49b40821U, 22);
        WANDB_CORE_MD5_G(a, b, c, d, m[1], 0xf61e2562U, 5);
        WANDB_CORE_MD5_G(d, a, b, c, m[6], 0xc040b340U, 9);
        WANDB_CORE_MD5_G(c, d, a, b, m[11], 0x265e5a51U, 14);
        WANDB_CORE_MD5_G(b, c, d, a, m[0], 0xe9b6c7aaU, 20);
        WANDB_CORE_MD5_G(a, b, c, d, m[5], 0xd62f105dU, 5);
        WANDB_CORE_MD5_G(d, a, b, c, m[10], 0x02441453U, 9);
        WANDB_CORE_MD5_G(c, d, a, b, m[15], 0xd8a1e681U, 14);
        WANDB_CORE_MD5_G(b, c, d, a, m[4], 0xe7d3fbc8U, 20);
        WANDB_CORE_MD5_G(a, b, c, d, m[9], 0x21e1cde6U, 5);
        WANDB_CORE_MD5_G(d, a, b, c, m[14], 0xc33707d6U, 9);
        WANDB_CORE_MD5_G(c, d, a, b, m[3], 0xf4d50d87U, 14);
        WANDB_CORE_MD5_G(b, c, d, a, m[8], 0x455a14edU, 20);
        WANDB_CORE_MD5_G(a, b, c, d, m[13], 0xa9e3e905U, 5);
        WANDB_CORE_MD5_G(d, a, b, c, m[2], 0xfcefa3f8U, 9);
        WANDB_CORE_MD5_G(c, d, a, b, m[7], 0x676f02d9U, 14);
        WANDB_CORE_MD5_G(b, c, d, a, m[12], 0x8d2a4c8aU, 20);
        WANDB_CORE_MD5_H(a, b, c, d, m[5], 0xfffa3942U, 4);
        WANDB_CORE_MD5_H(d, a, b, c, m[8], 0x8771f681U, 11);
        WANDB_CORE_MD5_H(c, d, a, b, m[11], 0x6d9d6122U, 16);
        WANDB_CORE_MD5_H(b, c, d, a, m[14], 0xfde5380cU, 23);
        WANDB_CORE_MD5_H(a, b, c, d, m[1], 0xa4beea44U, 4);
        WANDB_CORE_MD5_H(d, a, b, c, m[4], 0x4bdecfa9U, 11);
        WANDB_CORE_MD5_H(c, d, a, b, m[7], 0xf6bb4b60U, 16);
        WANDB_CORE_MD5_H(b, c, d, a, m[10], 0xbebfbc70U, 23);
        WANDB_CORE_MD5_H(a, b, c, d, m[13], 0x289b7ec6U, 4);
        WANDB_CORE_MD5_H(d, a, b, c, m[0], 0xeaa127faU, 11);
        WANDB_CORE_MD5_H(c, d, a, b, m[3], 0xd4ef3085U, 16);
        WANDB_CORE_MD5_H(b, c, d, a, m[6], 0x04881d05U, 23);
        WANDB_CORE_MD5_H(a, b, c, d, m[9], 0xd9d4d039U, 4);
        WANDB_CORE_MD5_H(d, a, b, c, m[12], 0xe6db99e5U, 11);
        WANDB_CORE_MD5_H(c, d, a, b, m[15], 0x1fa27cf8U, 16);
        WANDB_CORE_MD5_H(b, c, d, a, m[2], 0xc4ac5665U, 23);
        WANDB_CORE_MD5_I(a, b, c, d, m[0], 0xf4292244U, 6);
        WANDB_CORE_MD5_I(d, a, b, c, m[7], 0x432aff97U, 10);
        WANDB_CORE_MD5_I(c, d, a, b, m[14], 0xab9423a7U, 15);
        WANDB_CORE_MD5_I(b, c, d, a, m[5], 0xfc93a039U, 21);
        WANDB_CORE_MD5_I(a, b, c, d, m[12], 0x655b59c3U, 6);
        WANDB_CORE_MD5_I(d, a, b, c, m[3], 0x8f0ccc92U, 10);
        WANDB_CORE_MD5_I(c, d, a, b, m[10], 0xffeff47dU, 15);
        WANDB_CORE_MD5_I(b, c, d, a, m[1], 0x85845dd1U, 21);
        WANDB_CORE_MD5_I(a, b, c, d, m[8], 0x6fa87e4fU, 6);
        WANDB_CORE_MD5_I(d, a, b, c, m[15], 0xfe2ce6e0U, 10);
        WANDB_CORE_MD5_I(c, d, a, b, m[6], 0xa3014314U, 15);
        WANDB_CORE_MD5_I(b, c, d, a, m[13], 0x4e0811a1U, 21);
        WANDB_CORE_MD5_I(a, b, c, d, m[4], 0xf7537e82U, 6);
        WANDB_CORE_MD5_I(d, a, b, c, m[11], 0xbd3af235U, 10);
        WANDB_CORE_MD5_I(c, d, a, b, m[2], 0x2ad7d2bbU, 15);
        WANDB_CORE_MD5_I(b, c, d, a, m[9], 0xeb86d391U, 21);
            a += a0;
            b += b0;
            c += c0;
            d += d0;
        }
        state[0] = a;
        state[1] = b;
        state[2] = c;
        state[3] = d;
    }

    static void wandb_core_md5_init(wandb_core_md5 *md5) {
        md5->state[0] = 0x67452301U;
        md5->state[1] = 0xefcdab89U;
        md5->state[2] = 0x98badcfeU;
        md5->state[3] = 0x10325476U;
        md5->size = 0;
    }

    static void wandb_core_md5_update(
        wandb_core_md5 *md5, const unsigned char *data, size_t size
    ) {
        size_t used = (size_t)(md5->size % 64);
        md5->size += size;
        if (used) {
            size_t room = 64 - used;
            if (size < room) {
                memcpy(md5->tail + used, data, size);
                return;
            }
            memcpy(md5->tail + used, data, room);
            wandb_core_md5_blocks(md5->state, md5->tail, 1);
            data += room;
            size -= room;
        }
        if (size >= 64) {
            wandb_core_md5_blocks(md5->state, data, size / 64);
            data += size - size % 64;
            size %= 64;
        }
        if (size) {
            memcpy(md5->tail, data, size);
        }
    }

    static void wandb_core_md5_final(
        wandb_core_md5 *md5, unsigned char digest[16]
    ) {
        static const unsigned char padding[64] = {0x80};
        unsigned char length[8];
        uint64_t bits = md5->size * 8;
        size_t used = (size_t)(md5->size % 64);
        int i;
        for (i = 0; i < 8; i++) {
            length[i] = (unsigned char)(bits >> (8 * i));
        }
        wandb_core_md5_update(md5, padding, used < 56 ? 56 - used : 120 - used);
        wandb_core_md5_update(md5, length, 8);
        for (i = 0; i < 16; i++) {
            digest[i] = (unsigned char)(md5->state[i / 4] >> (8 * (i % 4)));
        }
    }

    /* The base64 of an MD5 digest: 24 characters, the last two "=". */
    static void wandb_core_md5_base64(
        const unsigned char digest[16], char text[24]
    ) {
        static const char alphabet[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        int i;
        for (i = 0; i < 5; i++) {
            uint32_t group = ((uint32_t)digest[3 * i] << 16)
                | ((uint32_t)digest[3 * i + 1] << 8) | digest[3 * i + 2];
            text[4 * i] = alphabet[group >> 18];
            text[4 * i + 1] = alphabet[(group >> 12) & 63];
            text[4 * i + 2] = alphabet[(group >> 6) & 63];
            text[4 * i + 3] = alphabet[group & 63];
        }
        text[20] = alphabet[digest[15] >> 2];
        text[21] = alphabet[(digest[15] & 3) << 4];
        text[22] = '=';
        text[23] = '=';
    }

    /* read() and write() of at most 1 GiB (Windows takes an unsigned int),
       retried when a signal interrupted them; -1 with errno set on error. */
    #define WANDB_CORE_IO_MAX ((size_t)1 << 30)
    static int64_t wandb_core_read(int fd, unsigned char *buffer, size_t size) {
        if (size > WANDB_CORE_IO_MAX) {
            size = WANDB_CORE_IO_MAX;
        }
    #ifdef _WIN32
        return _read(fd, buffer, (unsigned int)size);
    #else
        for (;;) {
            ssize_t count = read(fd, buffer, size);
            if (count >= 0 || errno != EINTR) {
                return count;
            }
        }
    #endif
    }

    static int wandb_core_write_all(
        int fd, const unsigned char *data, size_t size
    ) {
        while (size) {
            size_t part = size > WANDB_CORE_IO_MAX ? WANDB_CORE_IO_MAX : size;
    #ifdef _WIN32
            int64_t count = _write(fd, data, (unsigned int)part);
    #else
            int64_t count = write(fd, data, part);
            if (count < 0 && errno == EINTR) {
                continue;
            }
    #endif
            if (count <= 0) {
                if (count == 0) {
                    errno = EIO;
                }
                return -1;
            }
            data += count;
            size -= (size_t)count;
        }
        return 0;
    }

    #ifdef _WIN32
    /* Windows paths are opened from Python, which speaks UTF-16 to the
       system; no small-file shortcut. */
    #define WANDB_CORE_POSIX_FILES 0
    static int wandb_core_small_md5(
        const char *path, unsigned char *buffer, size_t buffer_size,
        unsigned char digest[16], int64_t *size, int64_t *mtime_ns
    ) {
        return -1;
    }
    static int64_t wandb_core_file_size(const char *path) {
        return 0;
    }
    #else
    #define WANDB_CORE_POSIX_FILES 1
    #ifndef O_CLOEXEC
    #define O_CLOEXEC 0
    #endif

    static int64_t wandb_core_mtime_ns(const struct stat *status) {
    #ifdef __APPLE__
        return (int64_t)status->st_mtimespec.tv_sec * 1000000000
            + status->st_mtimespec.tv_nsec;
    #else
        return (int64_t)status->st_mtim.tv_sec * 1000000000
            + status->st_mtim.tv_nsec;
    #endif
    }

    /* The size of a file, 0 when it cannot be stat'ed. */
    static int64_t wandb_core_file_size(const char *path) {
        struct stat status;
        return stat(path, &status) == 0 ? (int64_t)status.st_size : 0;
    }

    /* The MD5 of a whole regular file, its size and modification time; 0
       on success. Any error or change returns -1 and the caller hashes the
       file again the careful way, which raises the right exception. */
    static int wandb_core_small_md5(
        const char *path, unsigned char *buffer, size_t buffer_size,
        unsigned char digest[16], int64_t *size, int64_t *mtime_ns
    ) {
        struct stat before, after;
        wandb_core_md5 md5;
        int64_t total = 0, count = 0;
        int fd, failed;
        do {
            fd = open(path, O_RDONLY | O_CLOEXEC);
        } while (fd < 0 && errno == EINTR);
        if (fd < 0) {
            return -1;
        }
        failed = fstat(fd, &before) != 0 || !S_ISREG(before.st_mode);
        wandb_core_md5_init(&md5);
        /* Reading stops at the size fstat gave: a file that grew shows a
           new size in the second fstat. */
        while (!failed && total < (int64_t)before.st_size) {
            count = wandb_core_read(fd, buffer, buffer_size);
            if (count <= 0) {
                failed = 1;
                break;
            }
            wandb_core_md5_update(&md5, buffer, (size_t)count);
            total += count;
        }
        failed = failed || fstat(fd, &after) != 0
            || total != (int64_t)after.st_size
            || after.st_size != before.st_size
            || wandb_core_mtime_ns(&after) != wandb_core_mtime_ns(&before);
        close(fd);
        if (failed) {
            return -1;
        }
        wandb_core_md5_final(&md5, digest);
        *size = total;
        *mtime_ns = wandb_core_mtime_ns(&before);
        return 0;
    }
    #endif
    """
    ctypedef struct wandb_core_md5:
        pass
    void wandb_core_md5_init(wandb_core_md5 *md5) noexcept nogil
    void wandb_core_md5_update(
        wandb_core_md5 *md5, const unsigned char *data, size_t size
    ) noexcept nogil
    void wandb_core_md5_final(
        wandb_core_md5 *md5, unsigned char *digest
    ) noexcept nogil
    void wandb_core_md5_base64(
        const unsigned char *digest, char *text
    ) noexcept nogil
    int64_t wandb_core_read(
        int fd, unsigned char *buffer, size_t size
    ) noexcept nogil
    int wandb_core_write_all(
        int fd, const unsigned char *data, size_t size
    ) noexcept nogil
    int wandb_core_small_md5(
        const char *path,
        unsigned char *buffer,
        size_t buffer_size,
        unsigned char *digest,
        int64_t *size,
        int64_t *mtime_ns,
    ) noexcept nogil
    int64_t wandb_core_file_size(const char *path) noexcept nogil
    bint WANDB_CORE_POSIX_FILES

# CHUNK_SIZE as a C value, for code without the GIL.
cdef Py_ssize_t CHUNK_BYTES = CHUNK_SIZE
# Bytes read between two checks for Ctrl-C while a big file is hashed.
cdef Py_ssize_t SIGNAL_CHECK_BYTES = 64 * CHUNK_BYTES
# Below this many bytes, releasing the GIL costs more than it gives.
cdef Py_ssize_t NOGIL_MIN_BYTES = 2048

# Outcomes of _pump.
cdef enum:
    PUMP_MORE = 1
    PUMP_END = 0
    PUMP_READ_FAILED = -1
    PUMP_WRITE_FAILED = -2


def md5_b64(data):
    """The base64 of the MD5 digest of a bytes-like object."""
    cdef Py_buffer view
    cdef wandb_core_md5 md5
    cdef unsigned char digest[16]

    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    try:
        wandb_core_md5_init(&md5)
        if view.len >= NOGIL_MIN_BYTES:
            with nogil:
                wandb_core_md5_update(
                    &md5, <const unsigned char *>view.buf, <size_t>view.len
                )
        else:
            wandb_core_md5_update(
                &md5, <const unsigned char *>view.buf, <size_t>view.len
            )
    finally:
        PyBuffer_Release(&view)
    wandb_core_md5_final(&md5, digest)
    return _base64_text(digest)


def sha256_hex(data):
    """The hex SHA-256 digest of a bytes-like object."""
    return hashlib.sha256(data).hexdigest()


def file_digest(path, *, md5=True, sha256=False):
    """Hash a file in one pass.

    Args:
        path: the file.
        md5: whether to compute the base64 MD5.
        sha256: whether to compute the hex SHA-256.

    Returns:
        The digests asked for, the size read and the modification time.

    Raises:
        FileNotFoundError: there is no file at ``path``.
        IsADirectoryError: ``path`` is a directory.
        FileChangedError: the file changed while it was read.
        OSError: the file cannot be opened or read.
    """
    fd = open_to_read(path)
    try:
        return _hash_open_file(fd, path, md5, sha256, -1, None)
    finally:
        os.close(fd)


def copy_file_digest(source, target, *, md5=True, sha256=False, mode=0o666):
    """Copy a file to a new file and hash the bytes copied, in one read.

    Args:
        source: the file to copy.
        target: the new file; it must not exist yet.
        md5: whether to compute the base64 MD5.
        sha256: whether to compute the hex SHA-256.
        mode: the permissions of the new file (less the umask), which apply
            from its next opening: ``0o400`` makes a read-only snapshot
            without a ``chmod`` afterwards.

    Returns:
        The digests of the bytes copied, their count and the source's
        modification time.

    Raises:
        FileExistsError: ``target`` exists already.
        FileChangedError: the source changed while it was copied.
        OSError: either file cannot be opened, read or written. No partial
            target is left behind.
    """
    source_fd = open_to_read(source)
    try:
        target_fd = os.open(target, _CREATE_FLAGS, mode)
        try:
            result = _hash_open_file(source_fd, source, md5, sha256, target_fd, target)
        except BaseException:
            os.close(target_fd)
            os.unlink(target)
            raise
        os.close(target_fd)
        return result
    finally:
        os.close(source_fd)


def hash_files(paths, *, md5=True, sha256=False, workers=None, progress=None):
    """Hash many files on a pool of threads.

    Args:
        paths: the files.
        md5: whether to compute the base64 MD5 of each.
        sha256: whether to compute the hex SHA-256 of each.
        workers: how many threads; ``os.cpu_count()`` when ``None``.
        progress: called as ``progress(bytes_done, files_done)`` from the
            calling thread now and then, and once when all are done.

    Returns:
        One ``FileDigest`` per path, in the order of ``paths``.

    Raises:
        OSError: the first error met hashing a file; the files not started
            yet are left alone.
    """
    # Paths as the C library takes them, where it opens files itself.
    encoded = _encoded_paths(paths) if WANDB_CORE_POSIX_FILES else None
    sizes = _file_sizes(encoded) if encoded is not None else file_sizes(paths)
    batches = plan_batches(sizes)
    results = [None] * len(paths)
    stop = threading.Event()
    small_in_c = encoded is not None and md5 and not sha256

    def hash_batch(batch):
        if small_in_c and sizes[batch[0]] < SMALL_FILE_SIZE:
            return _hash_small_batch(paths, encoded, batch, results, stop)
        batch_bytes = 0
        for index in batch:
            if stop.is_set():
                break
            result = file_digest(paths[index], md5=md5, sha256=sha256)
            results[index] = result
            batch_bytes += result.size
        return batch_bytes

    run_batches(batches, hash_batch, stop, workers, progress)
    return results


# ---------------------------------------------------------------------------
# One file
# ---------------------------------------------------------------------------

# os.O_BINARY exists on Windows only, where it stops newline translation.
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


cdef object _hash_open_file(
    int fd, object path, bint want_md5, bint want_sha256, int target_fd, target
):
    """The digests of an open file read to its end; copied when target_fd >= 0."""
    cdef wandb_core_md5 md5
    cdef unsigned char digest[16]
    cdef int64_t size_read = 0
    cdef int64_t previous
    cdef int outcome = PUMP_MORE
    cdef unsigned char *buffer
    cdef Py_ssize_t buffer_size
    # Without SHA-256, whole stretches of the file are read, hashed and
    # copied without the GIL; SHA-256 (hashlib) takes one read at a time.
    cdef int64_t budget = 1 if want_sha256 else SIGNAL_CHECK_BYTES

    before = os.fstat(fd)
    buffer_size = min(CHUNK_BYTES, max(before.st_size + 1, 1))
    buffer = <unsigned char *>PyMem_Malloc(buffer_size)
    if buffer == NULL:
        raise MemoryError()
    wandb_core_md5_init(&md5)
    sha256_hash = hashlib.sha256() if want_sha256 else None
    try:
        while outcome == PUMP_MORE:
            previous = size_read
            with nogil:
                outcome = _pump(
                    fd, buffer, buffer_size, &md5 if want_md5 else NULL,
                    target_fd, budget, &size_read,
                )
            if outcome == PUMP_READ_FAILED:
                raise OSError(errno, strerror(errno).decode(), path)
            if outcome == PUMP_WRITE_FAILED:
                raise OSError(errno, strerror(errno).decode(), target)
            if sha256_hash is not None and size_read > previous:
                sha256_hash.update(
                    (<unsigned char[:buffer_size]>buffer)[: size_read - previous]
                )
            PyErr_CheckSignals()
    finally:
        PyMem_Free(buffer)

    check_unchanged(path, before, os.fstat(fd), size_read)
    md5_text = None
    if want_md5:
        wandb_core_md5_final(&md5, digest)
        md5_text = _base64_text(digest)
    return FileDigest(
        md5_text,
        sha256_hash.hexdigest() if sha256_hash is not None else None,
        size_read,
        before.st_mtime_ns,
    )


cdef int _pump(
    int fd,
    unsigned char *buffer,
    Py_ssize_t buffer_size,
    wandb_core_md5 *md5,
    int target_fd,
    int64_t budget,
    int64_t *size_read,
) noexcept nogil:
    """Read, hash and copy until the end of the file or ``budget`` bytes.

    Returns ``PUMP_END`` at the end of the file, ``PUMP_MORE`` when the
    budget is spent (the last read's bytes are at the start of
    ``buffer``), or a failure with ``errno`` set.
    """
    cdef int64_t count
    cdef int64_t done = 0
    while done < budget:
        count = wandb_core_read(fd, buffer, <size_t>buffer_size)
        if count < 0:
            return PUMP_READ_FAILED
        if count == 0:
            return PUMP_END
        if md5 != NULL:
            wandb_core_md5_update(md5, buffer, <size_t>count)
        if target_fd >= 0 and wandb_core_write_all(
            target_fd, buffer, <size_t>count
        ) != 0:
            return PUMP_WRITE_FAILED
        size_read[0] += count
        done += count
    return PUMP_MORE


cdef str _base64_text(const unsigned char *digest):
    cdef char text[24]
    wandb_core_md5_base64(digest, text)
    return PyUnicode_DecodeASCII(text, 24, NULL)


# ---------------------------------------------------------------------------
# Small files, in C (POSIX)
# ---------------------------------------------------------------------------


cdef list _encoded_paths(paths):
    """Each path as bytes for open(), or None where C cannot open it as is."""
    encoded = []
    for path in paths:
        try:
            name = os.fsencode(path)
        except (TypeError, ValueError):
            name = None
        # A NUL would cut the name short in C; os.open refuses it instead.
        encoded.append(None if name is None or b"\0" in name else name)
    return encoded


cdef list _file_sizes(list encoded):
    cdef Py_ssize_t count = len(encoded)
    cdef Py_ssize_t index
    cdef const char **names = <const char **>PyMem_Malloc(
        max(count, 1) * sizeof(char *)
    )
    cdef int64_t *sizes = <int64_t *>PyMem_Malloc(max(count, 1) * sizeof(int64_t))
    if names == NULL or sizes == NULL:
        PyMem_Free(names)
        PyMem_Free(sizes)
        raise MemoryError()
    try:
        for index in range(count):
            name = encoded[index]
            names[index] = <const char *>name if name is not None else NULL
        with nogil:
            for index in range(count):
                if names[index] == NULL:
                    sizes[index] = 0
                else:
                    sizes[index] = wandb_core_file_size(names[index])
        return [sizes[index] for index in range(count)]
    finally:
        PyMem_Free(names)
        PyMem_Free(sizes)


cdef struct SmallResult:
    int failed
    int64_t size
    int64_t mtime_ns
    unsigned char digest[16]


cdef Py_ssize_t _hash_small_batch(
    paths, list encoded, list batch, list results, stop
) except -1:
    """MD5 of a batch of small files, opened and read in C without the GIL.

    A file the C path could not hash (missing, not a regular file, changed,
    any error) is hashed again by ``file_digest``, which raises the error.
    """
    cdef Py_ssize_t count = len(batch)
    cdef Py_ssize_t position
    cdef Py_ssize_t batch_bytes = 0
    cdef const char **names = <const char **>PyMem_Malloc(count * sizeof(char *))
    cdef SmallResult *outcomes = <SmallResult *>PyMem_Malloc(
        count * sizeof(SmallResult)
    )
    cdef unsigned char *buffer = <unsigned char *>PyMem_Malloc(CHUNK_BYTES)
    cdef SmallResult *outcome
    if names == NULL or outcomes == NULL or buffer == NULL:
        PyMem_Free(names)
        PyMem_Free(outcomes)
        PyMem_Free(buffer)
        raise MemoryError()
    try:
        for position in range(count):
            name = encoded[batch[position]]
            names[position] = <const char *>name if name is not None else NULL
        with nogil:
            for position in range(count):
                outcome = &outcomes[position]
                outcome.failed = names[position] == NULL or wandb_core_small_md5(
                    names[position], buffer, CHUNK_BYTES, outcome.digest,
                    &outcome.size, &outcome.mtime_ns,
                ) != 0

        for position in range(count):
            if stop.is_set():
                break
            index = batch[position]
            outcome = &outcomes[position]
            if outcome.failed:
                result = file_digest(paths[index])
            else:
                result = FileDigest(
                    _base64_text(outcome.digest), None, outcome.size,
                    outcome.mtime_ns,
                )
            results[index] = result
            batch_bytes += result.size
        return batch_bytes
    finally:
        PyMem_Free(names)
        PyMem_Free(outcomes)
        PyMem_Free(buffer)
