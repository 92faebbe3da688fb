import CLibSSH2
import Foundation

/// Files over SFTP: write one with a mode, read one back.
extension SSHConnection {
    /// Writes `data` to `path` (replacing it) and sets `mode` exactly, whatever the server's umask.
    public func upload(_ data: [UInt8], to path: String, mode: Int32 = 0o644, timeout: Duration? = nil) async throws {
        let (deadline, timedOut) = sftpDeadline(path, timeout)
        try await acquireChannel()
        defer { releaseChannel() }
        roundTrips += 1
        // libssh2 keeps SFTP request state per SFTP instance: one operation at a time.
        try await exclusively(.sftp) { try await write(data, to: path, mode: mode, deadline: deadline, timedOut: timedOut) }
    }

    private func write(_ data: [UInt8], to path: String, mode: Int32, deadline: ContinuousClock.Instant, timedOut: SSHError) async throws {
        let sftp = try await sftpSession(deadline: deadline, timedOut: timedOut)
        let flags = UInt(LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC)
        let handle = try await openFile(sftp, path, flags: flags, mode: Int(mode), deadline: deadline, timedOut: timedOut)
        var remaining = ArraySlice(data)
        while !remaining.isEmpty {
            let written = remaining.withUnsafeBufferPointer { p in
                p.withMemoryRebound(to: CChar.self) { libssh2_sftp_write(handle, $0.baseAddress, $0.count) }
            }
            if written == Int(LIBSSH2_ERROR_EAGAIN) { try await pause(deadline: deadline, timedOut: timedOut); continue }
            if written < 0 { _ = libssh2_sftp_close_handle(handle); throw sftpError(sftp, path, Int32(written)) }
            remaining = remaining.dropFirst(written)
        }
        try await sftpStep(sftp, path, deadline, timedOut) { libssh2_sftp_close_handle(handle) }
        try await sftpStep(sftp, path, deadline, timedOut) { lvs_sftp_setmode(sftp, path, UInt(mode)) }
    }

    /// Reads the whole file at `path`.
    public func download(_ path: String, timeout: Duration? = nil) async throws -> [UInt8] {
        let (deadline, timedOut) = sftpDeadline(path, timeout)
        try await acquireChannel()
        defer { releaseChannel() }
        roundTrips += 1
        return try await exclusively(.sftp) { try await read(path, deadline: deadline, timedOut: timedOut) }
    }

    private func read(_ path: String, deadline: ContinuousClock.Instant, timedOut: SSHError) async throws -> [UInt8] {
        let sftp = try await sftpSession(deadline: deadline, timedOut: timedOut)
        let handle = try await openFile(sftp, path, flags: UInt(LIBSSH2_FXF_READ), mode: 0, deadline: deadline, timedOut: timedOut)
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 32 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBufferPointer { p in
                p.withMemoryRebound(to: CChar.self) { libssh2_sftp_read(handle, $0.baseAddress, $0.count) }
            }
            if count == Int(LIBSSH2_ERROR_EAGAIN) { try await pause(deadline: deadline, timedOut: timedOut); continue }
            if count < 0 { _ = libssh2_sftp_close_handle(handle); throw sftpError(sftp, path, Int32(count)) }
            if count == 0 { break }
            data += buffer[0..<count]
        }
        try await sftpStep(sftp, path, deadline, timedOut) { libssh2_sftp_close_handle(handle) }
        return data
    }

    private func sftpDeadline(_ path: String, _ timeout: Duration?) -> (ContinuousClock.Instant, SSHError) {
        let limit = timeout ?? options.commandTimeout
        return (ContinuousClock.now + limit, .commandTimedOut(endpoint: endpoint, command: "sftp \(path)", seconds: limit.seconds))
    }

    private func sftpSession(deadline: ContinuousClock.Instant, timedOut: SSHError) async throws -> OpaquePointer {
        while true {
            try ensureOpen()
            if let sftp { return sftp }
            if let opened = libssh2_sftp_init(session) { sftp = opened; continue }
            let rc = lastErrno()
            guard rc == LIBSSH2_ERROR_EAGAIN else {
                throw SSHError.sftpFailed(endpoint: endpoint, path: "-", reason: "cannot start the SFTP subsystem (is `Subsystem sftp` configured in sshd?): \(lastErrorMessage())")
            }
            try await pause(deadline: deadline, timedOut: timedOut)
        }
    }

    private func openFile(_ sftp: OpaquePointer, _ path: String, flags: UInt, mode: Int,
                          deadline: ContinuousClock.Instant, timedOut: SSHError) async throws -> OpaquePointer {
        while true {
            if let handle = lvs_sftp_open(sftp, path, flags, mode) { return handle }
            let rc = lastErrno()
            guard rc == LIBSSH2_ERROR_EAGAIN else { throw sftpError(sftp, path, rc) }
            try await pause(deadline: deadline, timedOut: timedOut)
        }
    }

    private func sftpStep(_ sftp: OpaquePointer, _ path: String, _ deadline: ContinuousClock.Instant,
                          _ timedOut: SSHError, _ call: () -> Int32) async throws {
        while true {
            let rc = call()
            if rc == LIBSSH2_ERROR_EAGAIN { try await pause(deadline: deadline, timedOut: timedOut); continue }
            if rc < 0 { throw sftpError(sftp, path, rc) }
            return
        }
    }

    private func sftpError(_ sftp: OpaquePointer, _ path: String, _ rc: Int32) -> SSHError {
        guard rc == LIBSSH2_ERROR_SFTP_PROTOCOL else { return lose(during: "sftp \(path)", rc: rc) }
        let reason: String
        switch libssh2_sftp_last_error(sftp) {
        case UInt(LIBSSH2_FX_NO_SUCH_FILE): reason = "no such file or folder"
        case UInt(LIBSSH2_FX_PERMISSION_DENIED): reason = "permission denied"
        case UInt(LIBSSH2_FX_NO_SUCH_PATH): reason = "no such folder"
        case UInt(LIBSSH2_FX_FAILURE): reason = "the server reported a failure (is it a folder? is the disk full?)"
        case let code: reason = "SFTP status \(code)"
        }
        return .sftpFailed(endpoint: endpoint, path: path, reason: reason)
    }
}
