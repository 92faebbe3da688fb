import Foundation
import LVSLab
import Testing
@testable import SSHTransport

/// SFTP: upload with a mode, read back.
struct FileTransferTests {
    @Test func uploadSetsTheModeAndReadsBack() async throws {
        try await Lab.with(hosts: 1) { lab in
            let host = lab.hosts[0]
            let connection = try await SSHConnection.connect(to: host.target, options: lab.sshOptions)
            let page = Array("I am RealServer1 10.0.0.11\n".utf8)
            try await connection.upload(page, to: "/srv/index.html", mode: 0o640)
            try await connection.upload(Array("#!/bin/sh\necho hi\n".utf8), to: "/srv/run.sh", mode: 0o755)
            #expect(try await connection.download("/srv/index.html") == page)
            let modes = try await connection.run("stat -c '%a %n' /srv/index.html /srv/run.sh; /srv/run.sh")
            #expect(modes.standardOutput == "640 /srv/index.html\n755 /srv/run.sh\nhi\n")
            // Replacing a file truncates it.
            try await connection.upload(Array("short\n".utf8), to: "/srv/index.html", mode: 0o644)
            #expect(try await connection.download("/srv/index.html") == Array("short\n".utf8))
            // And the file is where the host (not this machine) keeps it.
            #expect(try await lab.shell(on: host, "cat /srv/index.html").stdout == "short\n")
            await connection.close()
        }
    }

    @Test func largeFileRoundTrip() async throws {
        try await Lab.with(hosts: 1) { lab in
            let connection = try await SSHConnection.connect(to: lab.hosts[0].target, options: lab.sshOptions)
            let data = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            try await connection.upload(data, to: "/root/blob", mode: 0o600)
            #expect(try await connection.download("/root/blob") == data)
            await connection.close()
        }
    }

    @Test func missingFileIsAClearError() async throws {
        try await Lab.with(hosts: 1) { lab in
            let connection = try await SSHConnection.connect(to: lab.hosts[0].target, options: lab.sshOptions)
            let error = await expectSSHError { _ = try await connection.download("/srv/nothing-here") }
            #expect(error == .sftpFailed(endpoint: lab.hosts[0].target.description, path: "/srv/nothing-here", reason: "no such file or folder"))
            let upload = await expectSSHError { try await connection.upload([1], to: "/no/such/folder/file") }
            #expect(upload?.description.contains("/no/such/folder/file") == true)
            await connection.close()
        }
    }
}
