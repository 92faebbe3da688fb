import Foundation

/// A template's shell run in a real `/bin/sh` as on a host that systemd runs (the lab's hosts
/// have none): `systemctl` a function that answers `is-active` and `is-enabled` from `active`
/// and `enabled` and prints every other call (and runs `onStart` on `start`), systemd's folders
/// under `folder`. `more`: other programs, as functions, defined before the body.
struct FakeSystemdHost {
    let folder: String

    func run(_ body: String, systemd: Bool = true, active: Bool, enabled: Bool, prior: String = "", more: String = "",
             onStart: String = ":") async throws -> (status: Int32, output: String) {
        let fakes = """
            ACTIVE=\(active ? "yes" : "no"); ENABLED=\(enabled ? "yes" : "no"); prior='\(prior)'
            \(systemd ? "mkdir -p \(folder)/systemd \(folder)/etc" : "")
            systemctl() {
              case "$1" in is-active) test "$ACTIVE" = yes ;; is-enabled) test "$ENABLED" = yes ;; start) echo "systemctl $*"; \(onStart) ;; *) echo "systemctl $*" ;; esac
            }
            \(more)

            """
        return try await runShell(fakes + body.replacingOccurrences(of: "/run/systemd/system", with: "\(folder)/systemd")
            .replacingOccurrences(of: "/etc/systemd/system", with: "\(folder)/etc"))
    }
}
