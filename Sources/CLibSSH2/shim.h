#ifndef LVSCTL_LIBSSH2_SHIM_H
#define LVSCTL_LIBSSH2_SHIM_H
// Inline wrappers for the libssh2 calls that are C macros (Swift imports functions, not
// function-like macros), and for the two digests the transport needs from libcrypto.
#include <libssh2.h>
#include <libssh2_sftp.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

// Counts the bytes libssh2 reads from the socket, so that several channels sharing one session
// can tell whether a read made for one of them may have buffered data for the others.
typedef struct { long long received; } lvs_io_counter;

static ssize_t lvs_counting_recv(libssh2_socket_t fd, void *buffer, size_t length, int flags, void **abstract) {
    ssize_t n = recv(fd, buffer, length, flags);
    if (n < 0) return -errno;   // libssh2 expects -errno, as its own recv gives
    if (abstract && *abstract) ((lvs_io_counter *)*abstract)->received += n;
    return n;
}
static inline LIBSSH2_SESSION *lvs_session_init(lvs_io_counter *counter) {
    LIBSSH2_SESSION *session = libssh2_session_init_ex(NULL, NULL, NULL, counter);
    if (session) libssh2_session_callback_set(session, LIBSSH2_CALLBACK_RECV, (void *)lvs_counting_recv);
    return session;
}
static inline LIBSSH2_CHANNEL *lvs_channel_open_session(LIBSSH2_SESSION *session) {
    return libssh2_channel_open_ex(session, "session", sizeof("session") - 1,
                                   LIBSSH2_CHANNEL_WINDOW_DEFAULT, LIBSSH2_CHANNEL_PACKET_DEFAULT,
                                   NULL, 0);
}
static inline int lvs_channel_exec(LIBSSH2_CHANNEL *channel, const char *command) {
    return libssh2_channel_process_startup(channel, "exec", sizeof("exec") - 1,
                                           command, (unsigned int)strlen(command));
}
static inline LIBSSH2_CHANNEL *lvs_channel_direct_tcpip(LIBSSH2_SESSION *session, const char *host, int port) {
    return libssh2_channel_direct_tcpip_ex(session, host, port, "127.0.0.1", 22);
}
static inline ssize_t lvs_channel_read(LIBSSH2_CHANNEL *channel, int stream, char *buf, size_t len) {
    return libssh2_channel_read_ex(channel, stream, buf, len);
}
static inline ssize_t lvs_channel_write(LIBSSH2_CHANNEL *channel, const char *buf, size_t len) {
    return libssh2_channel_write_ex(channel, 0, buf, len);
}
static inline int lvs_userauth_password(LIBSSH2_SESSION *session, const char *user, const char *password) {
    return libssh2_userauth_password_ex(session, user, (unsigned int)strlen(user),
                                        password, (unsigned int)strlen(password), NULL);
}
static inline int lvs_userauth_keyfile(LIBSSH2_SESSION *session, const char *user,
                                       const char *privatekey, const char *passphrase) {
    return libssh2_userauth_publickey_fromfile_ex(session, user, (unsigned int)strlen(user),
                                                  NULL, privatekey, passphrase);
}
static inline LIBSSH2_SFTP_HANDLE *lvs_sftp_open(LIBSSH2_SFTP *sftp, const char *path,
                                                 unsigned long flags, long mode) {
    return libssh2_sftp_open_ex(sftp, path, (unsigned int)strlen(path), flags, mode,
                                LIBSSH2_SFTP_OPENFILE);
}
static inline int lvs_sftp_setmode(LIBSSH2_SFTP *sftp, const char *path, unsigned long mode) {
    LIBSSH2_SFTP_ATTRIBUTES attrs;
    memset(&attrs, 0, sizeof(attrs));
    attrs.flags = LIBSSH2_SFTP_ATTR_PERMISSIONS;
    attrs.permissions = mode;
    return libssh2_sftp_stat_ex(sftp, path, (unsigned int)strlen(path), LIBSSH2_SFTP_SETSTAT, &attrs);
}
// Socket constants as C spells them: glibc declares SOCK_STREAM and SOCK_CLOEXEC both as enum
// cases and as macros, and a fresh build of the Swift module sometimes finds neither.
static inline int lvs_sock_stream(void) { return SOCK_STREAM; }
static inline int lvs_sock_cloexec(void) { return SOCK_CLOEXEC; }
// A connected pair of local stream sockets, non-blocking and close-on-exec (a tunnel's two ends).
static inline int lvs_socketpair(int ends[2]) {
    return socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, ends);
}
// A non-blocking eventfd: wakes a connection's poll when work arrives from another thread.
static inline int lvs_wake_descriptor(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

// libcrypto set up without its exit-time cleanup: lvsctl's main thread may exit while a pool
// thread still frees a session (a lvsctl down once died in pthread_rwlock_rdlock on a lock that
// cleanup had freed). Must come before anything else uses libcrypto; 1 on success.
static inline int lvs_crypto_init(void) { return OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL); }

// HMAC-SHA1 (hashed known_hosts entries, `|1|salt|hash`); out must hold 20 bytes.
static inline int lvs_hmac_sha1(const unsigned char *key, int keylen,
                                const unsigned char *data, size_t datalen, unsigned char *out) {
    unsigned int outlen = 0;
    return HMAC(EVP_sha1(), key, keylen, data, datalen, out, &outlen) != NULL && outlen == 20;
}
// SHA-256 (key fingerprints as OpenSSH prints them); out must hold 32 bytes.
static inline int lvs_sha256(const unsigned char *data, size_t datalen, unsigned char *out) {
    unsigned int outlen = 0;
    return EVP_Digest(data, datalen, out, &outlen, EVP_sha256(), NULL) == 1 && outlen == 32;
}
#endif
