import Foundation
import Sandbox
import Testing

/// Every syscall the default profile denies must fail with EPERM or ENOSYS
/// inside a jail, and the exec profile's kill rules must name the syscall.
@Suite struct SeccompTests {
    static func probeConfig(_ args: [String], _ profile: SeccompProgram) -> JailConfig {
        var c = Fixtures.config(["/probe/syscall-probe"] + args, seccomp: profile)
        c.binds = [Bind(source: Fixtures.buildDirectory + "/syscall-probe", target: "/probe/syscall-probe")]
        c.limits.wallTimeMs = 120_000
        return c
    }

    /// Syscalls the default profile allows (unconditionally or with argument checks).
    static func allowedByDefault() throws -> Set<String> {
        let profile = try SeccompProfile.load(Fixtures.policies + "/seccomp/default.json")
        var names = Set<String>()
        for rule in profile.syscalls where rule.action != profile.defaultAction && rule.action != "SCMP_ACT_ERRNO" {
            names.formUnion(rule.names)
        }
        return names
    }

    @Test func everyDeniedSyscallFailsWithEPERMOrENOSYS() throws {
        let allowed = try Self.allowedByDefault()
        var denied: [String] = []
        for nr in Int32(0)..<Int32(470) {
            let name = SeccompCompiler.syscallName(nr)
            if name.hasPrefix("syscall ") || allowed.contains(name) { continue }
            denied.append("\(name)=\(nr)")
        }
        #expect(denied.count > 50)
        let o = Fixtures.jail.run(Self.probeConfig(denied, Fixtures.defaultProfile))
        #expect(o.result.status == .ok, "\(o.result) \(o.err)")
        let lines = o.out.split(separator: "\n")
        #expect(lines.count == denied.count)
        for line in lines {
            let parts = line.split(separator: " ")
            #expect(parts.count == 2 && (parts[1] == "EPERM" || parts[1] == "ENOSYS"), "\(line)")
        }
    }

    static let escapes = ["clone-newuser", "clone-newns", "clone3", "unshare-user", "socket-vsock", "socket-alg", "io_uring",
                          "ptrace-traceme", "keyctl", "bpf", "mount-tmpfs", "setns", "perf_event_open", "userfaultfd",
                          "init_module", "kexec_load", "reboot"]

    @Test func namedEscapesAllFail() {
        let words = Self.escapes
        let o = Fixtures.jail.run(Self.probeConfig(words, Fixtures.defaultProfile))
        #expect(o.result.status == .ok, "\(o.result)")
        let lines = o.out.split(separator: "\n")
        #expect(lines.count == words.count, "\(o.out)")
        for line in lines {
            #expect(line.hasSuffix(" EPERM") || line.hasSuffix(" ENOSYS"), "\(line)")
        }
    }

    /// The browser's profile (Chromium runs with --no-sandbox: the jail is its
    /// sandbox) denies the same, to the jail's uid 0 as to its unprivileged id.
    @Test(arguments: [UInt32(0), 1000])
    func namedEscapesAllFailUnderTheBrowserProfile(uid: UInt32) {
        var config = Self.probeConfig(Self.escapes, Fixtures.browserProfile)
        config.uid = uid
        config.gid = uid
        let o = Fixtures.jail.run(config)
        #expect(o.result.status == .ok, "\(o.result)")
        let lines = o.out.split(separator: "\n")
        #expect(lines.count == Self.escapes.count, "\(o.out)")
        for line in lines {
            #expect(line.hasSuffix(" EPERM") || line.hasSuffix(" ENOSYS"), "uid \(uid): \(line)")
        }
    }

    @Test func execProfileKillsAndNamesTheSyscall() {
        var c = Fixtures.config(["/usr/bin/python3", "-c", "import ctypes; ctypes.CDLL(None).syscall(101, 0, 0, 0, 0); print('survived')"],
                                seccomp: Fixtures.execProfile)
        c.limits.wallTimeMs = 10_000
        let o = Fixtures.jail.run(c)
        #expect(o.result.status == .seccompViolation, "\(o.result)")
        #expect(o.result.syscall == "ptrace")
        #expect(!o.out.contains("survived"))
    }

    @Test func ordinaryProgramsRunUnderTheExecProfile() {
        let o = Fixtures.jail.run(Fixtures.config(["/usr/bin/python3", "-c",
            "import subprocess, json; print(subprocess.run(['ls', '/'], capture_output=True).returncode)"],
            seccomp: Fixtures.execProfile))
        #expect(o.result.status == .ok, "\(o.result) \(o.err)")
        #expect(o.out == "0\n")
    }

    @Test func unknownActionIsRejectedClearly() {
        let profile = SeccompProfile(defaultAction: "SCMP_ACT_NOPE", syscalls: [])
        #expect(throws: SandboxError.self) { try SeccompCompiler.compile(profile) }
    }
}
