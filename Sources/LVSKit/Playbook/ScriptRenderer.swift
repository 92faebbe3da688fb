/// A host's steps as one script a person can read and run by hand: each step's check, and its
/// apply when the check fails — the seed's scripts, generated.
public enum ScriptRenderer {
    public static func script(_ plan: HostPlan, inventory: Inventory) -> String {
        let roles = plan.roles.map(\.rawValue).joined(separator: ", ")
        var lines = [
            "#!/bin/bash",
            "# lvsctl render: host \(plan.host.name) (\(plan.host.address)), role \(roles), mode \(inventory.mode.rawValue.uppercased()), from \(inventory.file)",
            "# Each step runs its check and applies only when the check fails. Run as root.",
            "set -u",
        ]
        for (index, step) in plan.steps.enumerated() {
            lines.append("")
            lines.append("# --- \(index + 1). \(step.name)   [\(step.template)]")
            // Bodies are not indented: that would change multi-line quoted values.
            lines.append("if ! {")
            lines.append(step.check)
            lines.append("} >/dev/null 2>&1; then")
            lines.append(step.apply)
            lines.append("fi")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The director's rules as `ipvsadm-save -n` prints them (readable by `ipvsadm-restore`).
    public static func ipvsadmSave(_ inventory: Inventory) -> String {
        inventory.services.flatMap { IPVSRules(service: $0, mode: inventory.mode).saveLines }.joined(separator: "\n") + "\n"
    }
}
