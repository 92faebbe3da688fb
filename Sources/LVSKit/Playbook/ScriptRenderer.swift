/// A host's desired state as one script a person can read and run by hand: each template
/// resource's check, and its apply when the check fails — the seed's scripts, generated — and
/// each virtual service as the ipvsadm commands that create it. This is not what `up` sends:
/// `up` records what it changes, and edits live IPVS services in place (`plan --show-script`).
public enum ScriptRenderer {
    public static func script(_ state: HostState, inventory: Inventory) -> String {
        let roles = state.roles.map(\.rawValue).joined(separator: ", ")
        var lines = [
            "#!/bin/bash",
            "# lvsctl render: host \(state.host.name) (\(state.host.address)), role \(roles), mode \(inventory.mode.rawValue.uppercased()), from \(inventory.file)",
            "# Each step runs its check and applies only when the check fails. Run as root.",
            "set -u",
        ]
        // Checks may call lvsctl's look-ups (a real server's addresses, routes and ports): the
        // script carries them, with the private folder they answer from.
        let checks = state.resources.compactMap(\.shell).map(\.check)
        // (A check that keeps what it fetched in $T needs the folder too: the web server's page.)
        let carriesHelpers = checks.contains { $0.contains("lvsctl_") || $0.contains("$T") }
        if carriesHelpers {
            lines.append("T=$(mktemp -d) || exit 1")
            lines.append("trap 'rm -rf \"$T\"' EXIT")
            lines.append(HostScript.lookups.trimmingCharacters(in: .newlines))
        }
        for (index, resource) in state.resources.enumerated() {
            lines.append("")
            lines.append("# --- \(index + 1). \(resource.name)   [\(resource.id)]")
            if let shell = resource.shell {
                // Bodies are not indented: that would change multi-line quoted values.
                lines.append("if ! {")
                lines.append(shell.check)
                lines.append("} >/dev/null 2>&1; then")
                lines.append(shell.apply)
                if carriesHelpers { lines.append("net_gen=$((net_gen + 1))") }
                lines.append("fi")
            } else if case let .ipvsService(service) = resource.value {
                lines.append("# (up edits an existing service in place instead: see `lvsctl plan`)")
                lines += IPVSAdm.create(service).map(IPVSAdm.shell)
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The director's rules as `ipvsadm-save -n` prints them (readable by `ipvsadm-restore`).
    public static func ipvsadmSave(_ desired: DesiredCluster) -> String {
        desired.ipvsServices.flatMap(IPVSAdm.saveLines).joined(separator: "\n") + "\n"
    }
}
