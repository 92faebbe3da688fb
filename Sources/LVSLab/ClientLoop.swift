import Foundation

/// A bounded loop of HTTP requests through a VIP from the lab's client host, run in the
/// background while a cluster changes: every request's result is kept, failures are counted.
/// It pauses while `verify` sends its own requests (from the same client they would interleave
/// with verify's and blur the scheduler's pattern).
public struct ClientLoop: Sendable {
    public struct Result: Sendable {
        public var requests: Int
        /// The lines of failed requests: uptime and curl's result (`000` = no answer).
        public var failures: [String]
        public var seconds: Double
        public var perSecond: Double { seconds > 0 ? Double(requests) / seconds : 0 }
    }

    let lab: VMLab
    let base: String

    /// Starts the loop: at most `limit` requests, one at a time, each a new connection.
    public static func start(_ lab: VMLab, url: String, limit: Int = 20_000) async throws -> ClientLoop {
        let loop = ClientLoop(lab: lab, base: "/tmp/lvsctl-loop-\(getpid())-\(UUID().uuidString.prefix(6))")
        let b = loop.base
        _ = try await lab.run("client", """
            rm -f \(b).*
            setsid sh -c 'i=0; read -r t0 _ < /proc/uptime; echo "$t0" > \(b).start
              while [ $i -lt \(limit) ] && [ ! -e \(b).stop ]; do
                if [ -e \(b).pause ]; then : > \(b).paused; sleep 0.05; continue; fi
                rm -f \(b).paused; i=$((i + 1))
                code=$(curl -s -o /dev/null -m 3 -w "%{http_code}" \(url)) || code="${code}-curl$?"
                read -r t _ < /proc/uptime; echo "$t $code" >> \(b).log
              done
              read -r t1 _ < /proc/uptime; echo "$t1" > \(b).done' < /dev/null > /dev/null 2>&1 &
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
            echo "start $(cat \(base).start)"; echo "done $(cat \(base).done)"; cat \(base).log; rm -f \(base).*
            """)
        var start = 0.0, end = 0.0, requests = 0
        var failures: [String] = []
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count == 2 else { continue }
            if words[0] == "start" { start = Double(words[1]) ?? 0; continue }
            if words[0] == "done" { end = Double(words[1]) ?? 0; continue }
            requests += 1
            if words[1] != "200" { failures.append(String(line)) }
        }
        return Result(requests: requests, failures: failures, seconds: end - start)
    }
}
