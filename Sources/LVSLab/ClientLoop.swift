import Foundation

/// A bounded loop of HTTP requests through a VIP from the lab's client host, run in the
/// background while a cluster changes: every request's result is kept, failures are counted.
/// It pauses while `verify` sends its own requests (from the same client they would interleave
/// with verify's and blur the scheduler's pattern).
///
/// One Python process makes every request (a new connection each, 3 s timeouts): starting curl
/// per request manages 2–3 a second under the VM's emulation, this 20 and more.
public struct ClientLoop: Sendable {
    public struct Result: Sendable {
        public var requests: Int
        /// The lines of failed requests: seconds since the start and what came back.
        public var failures: [String]
        /// Seconds the loop ran, pauses for `verify` excluded.
        public var seconds: Double
        /// When each answered request started (seconds since the loop's start).
        public var answeredAt: [Double] = []
        public var perSecond: Double { seconds > 0 ? Double(requests) / seconds : 0 }
        /// The longest time without an answer: from one answered request to the next (what a
        /// failover costs the client).
        public var longestGap: Double { zip(answeredAt, answeredAt.dropFirst()).map { $1 - $0 }.max() ?? 0 }
    }

    let lab: VMLab
    let base: String

    static let program = #"""
    import os, socket, sys, time
    base, host, port, limit = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    source = None if sys.argv[5] == "-" else (sys.argv[5], 0)
    start, paused, count = time.monotonic(), 0.0, 0
    with open(base + ".log", "w") as log:
        while count < limit and not os.path.exists(base + ".stop"):
            if os.path.exists(base + ".pause"):
                t = time.monotonic()
                open(base + ".paused", "w").close()
                while os.path.exists(base + ".pause") and not os.path.exists(base + ".stop"):
                    time.sleep(0.05)
                paused += time.monotonic() - t
                continue
            count += 1
            t = time.monotonic() - start
            try:
                with socket.create_connection((host, port), timeout=3, source_address=source) as s:
                    s.sendall(b"GET / HTTP/1.0\r\nHost: " + host.encode() + b"\r\n\r\n")
                    head = s.recv(64)
                code = head.split(b" ")[1].decode() if head.startswith(b"HTTP/") else "no-status"
            except Exception as error:
                code = type(error).__name__
            log.write("%.3f %s\n" % (t, code))
            log.flush()
            time.sleep(0.02)
    with open(base + ".done", "w") as done:
        done.write("%.3f\n" % (time.monotonic() - start - paused))
    """#

    /// Starts the loop: at most `limit` requests, one at a time, from `source` (one of the
    /// client's addresses; nil: the address the client's route picks, as `verify`'s requests).
    public static func start(_ lab: VMLab, vip: String, port: Int = 80, limit: Int = 20_000, source: String? = nil) async throws -> ClientLoop {
        let script = "\(lab.folder)/client-loop.py"   // the VM sees the lab folder as this machine does
        try program.write(toFile: script, atomically: true, encoding: .utf8)
        let loop = ClientLoop(lab: lab, base: "/tmp/lvsctl-loop-\(getpid())-\(UUID().uuidString.prefix(6))")
        _ = try await lab.run("client", """
            rm -f \(loop.base).*
            setsid python3 \(script) \(loop.base) \(vip) \(port) \(limit) \(source ?? "-") < /dev/null > \(loop.base).err 2>&1 &
            for i in $(seq 100); do [ -e \(loop.base).log ] && break; sleep 0.1; done
            """)
        return loop
    }

    /// Waits until no request of the loop is in flight.
    public func pause() async throws {
        _ = try await lab.run("client", ": > \(base).pause; for i in $(seq 100); do [ -e \(base).paused ] && break; sleep 0.05; done")
    }

    public func resume() async throws {
        _ = try await lab.run("client", "rm -f \(base).pause \(base).paused")
    }

    /// Stops the loop and reads what every request got.
    public func stop() async throws -> Result {
        let text = try await lab.run("client", """
            : > \(base).stop; for i in $(seq 200); do [ -e \(base).done ] && break; sleep 0.05; done
            echo "done $(cat \(base).done)"; cat \(base).log \(base).err; rm -f \(base).*
            """)
        var seconds = 0.0, requests = 0
        var failures: [String] = []
        var answeredAt: [Double] = []
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.count == 2, words[0] == "done" { seconds = Double(words[1]) ?? 0; continue }
            guard words.count == 2, Double(words[0]) != nil else { failures.append(String(line)); continue }
            requests += 1
            if words[1] != "200" { failures.append(String(line)) } else { answeredAt.append(Double(words[0])!) }
        }
        return Result(requests: requests, failures: failures, seconds: seconds, answeredAt: answeredAt)
    }
}
