import Foundation

/// Debian's generic kernel (it has IPVS with every scheduler, ipip, 9p and overlay as
/// modules), unpacked once into a cache folder, and a tiny initramfs that mounts this machine's
/// root over 9p (read-only, with a tmpfs overlay) and switches to the lab's guest init.
public struct LabKernel: Sendable {
    public let abi: String
    public let folder: String
    public var vmlinuz: String { "\(folder)/root/boot/vmlinuz-\(abi)" }
    public var initramfs: String { "\(folder)/initramfs.cpio.gz" }

    public static var cacheRoot: String {
        ProcessInfo.processInfo.environment["LVSCTL_KERNEL_CACHE"] ?? "/var/cache/lvsctl/kernel"
    }

    /// The start of a script that prepares part of the cache, which every lab on the machine
    /// shares (a test run's beside `lvsctl lab up`'s): one prepares it at a time, and one that
    /// waited finds it made (`made`, a shell test) and stops there.
    func oneAtATime(unlessMade made: String) -> String {
        "set -e\nmkdir -p \(Shell.quote(folder)) && cd \(Shell.quote(folder))\nexec 8>>.prepare.lock; flock 8\nif { \(made); }; then exit 0; fi\n"
    }

    /// Finds (or fetches and prepares) the kernel `linux-image-amd64` currently depends on.
    public static func prepare(log: (String) -> Void) async throws -> LabKernel {
        let package = try await currentPackage()
        let abi = String(package.dropFirst("linux-image-".count))
        let kernel = LabKernel(abi: abi, folder: "\(cacheRoot)/\(abi)")
        if !FileManager.default.fileExists(atPath: kernel.vmlinuz) || !FileManager.default.fileExists(atPath: "\(kernel.folder)/root/lib/modules/\(abi)/modules.dep") {
            log("fetching \(package) (once; cached in \(kernel.folder))")
            try await Shell.bashChecked(kernel.oneAtATime(unlessMade: "[ -f root/lib/modules/\(abi)/modules.dep ] && [ -f root/boot/vmlinuz-\(abi) ]") + """
                set -e
                rm -rf download root && mkdir download
                (cd download && apt-get download -qq \(package))
                dpkg -x download/*.deb root
                depmod -b root \(abi)
                rm -rf download
                """, what: "fetching the lab kernel \(package)")
        }
        if !FileManager.default.fileExists(atPath: kernel.initramfs) {
            log("building the lab initramfs for \(abi)")
            try await Shell.bashChecked(kernel.oneAtATime(unlessMade: "[ -f \(Shell.quote(kernel.initramfs)) ]") + kernel.initramfsScript(),
                                        what: "building the lab initramfs")
        }
        return kernel
    }

    /// `linux-image-6.1.0-NN-amd64`: take the current dependency rather than pin an ABI (old
    /// ones leave the mirror).
    static func currentPackage() async throws -> String {
        let query = "apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'"
        var result = try await Shell.bash(query)
        if result.stdout.isEmpty {
            _ = try await Shell.bash("timeout 300 apt-get update -qq")
            result = try await Shell.bash(query)
        }
        let package = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard package.hasPrefix("linux-image-") else {
            throw LabError("cannot find Debian's kernel package (apt-cache depends linux-image-amd64 gave nothing): is apt configured?")
        }
        return package
    }

    func initramfsScript() -> String {
        """
        set -euo pipefail
        K=\(Shell.quote(folder)); ABI=\(abi)
        W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
        mkdir -p "$W"/{bin,dev,proc,sys,lib/mod,lower,rw,newroot}
        cp /bin/busybox "$W/bin/busybox"
        MODS=$(for m in virtio_pci 9pnet_virtio 9p overlay; do modprobe -d "$K/root" -S "$ABI" --show-depends $m | awk '$1 == "insmod" {print $2}'; done | awk '!seen[$0]++')
        ORDER=""
        for path in $MODS; do cp "$path" "$W/lib/mod/"; ORDER="$ORDER $(basename "$path")"; done
        cat > "$W/init" <<INIT
        #!/bin/busybox sh
        /bin/busybox --install -s /bin
        mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
        if [ -n "\\${LAB_PROBE:-}" ]; then echo LAB-PROBE-OK > /dev/console; poweroff -f; fi
        for m in $ORDER; do insmod /lib/mod/\\$m || echo "insmod \\$m failed"; done
        mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro hostroot /lower || { echo "LAB FAILED: 9p mount"; poweroff -f; }
        mount -t tmpfs -o size=1g,mode=755 tmpfs /rw
        mkdir -p /rw/upper /rw/work
        mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot || { echo "LAB FAILED: overlay"; poweroff -f; }
        mkdir -p /newroot/usr/lib/modules/$ABI
        mount --bind /newroot$K/root/lib/modules/$ABI /newroot/usr/lib/modules/$ABI
        for d in proc sys dev; do mount --move /\\$d /newroot/\\$d; done
        [ -x "/newroot\\$LAB_INIT" ] || { echo "LAB FAILED: no guest init \\$LAB_INIT"; poweroff -f; }
        exec switch_root /newroot "\\$LAB_INIT"
        INIT
        chmod +x "$W/init"
        (cd "$W" && find . | cpio -o -H newc --quiet | gzip -1) > "$K/initramfs.cpio.gz.tmp"
        mv "$K/initramfs.cpio.gz.tmp" "$K/initramfs.cpio.gz"
        """
    }
}
