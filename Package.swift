// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "lvsctl",
    products: [
        .executable(name: "lvsctl", targets: ["lvsctl"]),
        .library(name: "LVSKit", targets: ["LVSKit"]),
        .library(name: "SSHTransport", targets: ["SSHTransport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.0.0"),
    ],
    targets: [
        // libssh2 through a small shim: several of its calls are C macros Swift cannot import.
        .systemLibrary(
            name: "CLibSSH2",
            pkgConfig: "libssh2",
            providers: [.apt(["libssh2-1-dev"])]
        ),
        // The SSH transport: one actor per connection on a dedicated thread.
        .target(name: "SSHTransport", dependencies: ["CLibSSH2"]),
        // The domain: inventory, validation, playbooks, rendering, planning. No I/O.
        .target(
            name: "LVSKit",
            dependencies: ["Yams", .product(name: "Mustache", package: "swift-mustache")]
        ),
        // Runs rendered steps on hosts over SSH: plan, up, down, verify, status.
        .target(
            name: "LVSRunner",
            dependencies: [
                "LVSKit", "SSHTransport",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // Lab hosts: network namespaces with their own sshd, and the lab's scenarios (the demo
        // and the end-to-end tests run the same ones).
        .target(
            name: "LVSLab",
            dependencies: ["SSHTransport", "LVSKit", "LVSRunner"]
        ),
        .executableTarget(
            name: "lvsctl",
            dependencies: [
                "LVSKit", "SSHTransport", "LVSLab", "LVSRunner",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // What tests need beside the product, kept out of the shipped binary: the in-memory IPVS
        // twin.
        .target(name: "LVSTestSupport", dependencies: ["LVSKit"]),
        // LVSRunner for LocalProgram: the scripts these tests run must not hold a pool thread.
        .testTarget(name: "LVSKitTests", dependencies: ["LVSKit", "LVSTestSupport", "LVSRunner"]),
        .testTarget(name: "SSHTransportTests", dependencies: ["SSHTransport", "LVSLab"]),
        .testTarget(name: "LVSRunnerTests", dependencies: ["LVSRunner", "LVSKit", "LVSLab", "SSHTransport"],
                    exclude: ["Golden"]),
    ],
    swiftLanguageModes: [.v6]
)
