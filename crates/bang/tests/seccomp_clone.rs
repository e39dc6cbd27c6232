//! The seccomp attack of chapter 5 (seccomp.md, "clone, clone3 and unshare"): a
//! filter that refuses `unshare(CLONE_NEWUSER)` but lets `clone` and `clone3`
//! through does not stop a container from making a user namespace, because those
//! two take the same flag. `clone3` passes its flags in a struct in memory, which a
//! cBPF filter cannot read, so the only rule that holds for it is a blanket one;
//! Docker's profile answers it ENOSYS, so that glibc falls back to `clone`, whose
//! flags the filter can check.
//!
//! The payload is Perl (its `syscall` builtin makes raw system calls; perl-base is in
//! every Debian and Ubuntu), run from the host's /usr mounted read-only into the
//! busybox rootfs. Each way of making a user namespace runs in a child; the kernel's
//! answer is the evidence: a child whose `/proc/self/ns/user` differs from its
//! parent's is in a new user namespace. Under pivot_root the kernel itself does not
//! stop this (it refuses CLONE_NEWUSER only to a chrooted caller, which is why the
//! chapter 5 demo, which chroots, never shows it). Runs on bang-oci and on runc with
//! the same profiles: the weakness is the profile's, not the runtime's.
//! Needs root: `sudo -E env PATH="$PATH" cargo test -p bang --test seccomp_clone`.

use std::collections::BTreeMap;
use std::path::Path;

use bigbang_testkit::bundle::Bundle;
use bigbang_testkit::names::numbered;
use bigbang_testkit::privilege::require_root;
use bigbang_testkit::runtime::Runtime;
use nix::libc;
use serde_json::{json, Value};

const SUITE: &str = "seccomp_clone";

const CLONE_NEWUSER: u64 = libc::CLONE_NEWUSER as u64;

fn root() {
    require_root(
        "these tests create containers with bang-oci and runc and need root",
        "cargo test -p bang --test seccomp_clone",
    );
}

/// Tries unshare(2), clone(2) and clone3(2) with CLONE_NEWUSER, each in a child
/// process of its own (which writes with syswrite: it leaves by exit_group, which
/// flushes no buffer), and prints `<call> <answer>` lines: the errno on failure, or
/// the child's user namespace. `ns` is the payload's own user namespace.
const PAYLOAD: &str = r#"
my $mine = readlink("/proc/self/ns/user");
print "ns $mine\n";
my %nr = (unshare => 272, clone => 56, clone3 => 435);
for my $call ("unshare", "clone", "clone3") {
    pipe(my $r, my $w) or die "pipe: $!";
    my $pid = fork();
    if ($pid == 0) {
        close $r;
        my $got;
        if ($call eq "unshare") {
            $got = syscall($nr{unshare}, 0x10000000);
        } elsif ($call eq "clone") {
            $got = syscall($nr{clone}, 0x10000000 | 17, 0, 0, 0, 0);
        } else {
            my $args = pack("Q8", 0x10000000, 0, 0, 0, 17, 0, 0, 0);
            $got = syscall($nr{clone3}, $args, length $args);
        }
        if ($got == -1) { syswrite($w, "errno " . ($! + 0) . "\n"); syscall(231, 0); }
        if ($got == 0 && $call ne "unshare") { syswrite($w, readlink("/proc/self/ns/user") . "\n"); syscall(231, 0); }
        if ($call eq "unshare") { syswrite($w, readlink("/proc/self/ns/user") . "\n"); }
        if ($got > 0) { waitpid($got, 0); }
        syscall(231, 0);
    }
    close $w;
    my $line = <$r> // "nothing\n";
    waitpid($pid, 0);
    print "$call $line";
}
"#;

/// A seccomp profile that allows everything but the given rules.
fn allow_but(rules: Value) -> Value {
    json!({ "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": rules })
}

/// The rule the chapter 5 profile started with: unshare with CLONE_NEWUSER gets ENOSYS.
fn unshare_rule() -> Value {
    json!({ "names": ["unshare"], "action": "SCMP_ACT_ERRNO", "errnoRet": libc::ENOSYS,
            "args": [{ "index": 0, "value": CLONE_NEWUSER, "valueTwo": CLONE_NEWUSER, "op": "SCMP_CMP_MASKED_EQ" }] })
}

/// The two rules that close the gap, as Docker's profile has them for a container
/// without CAP_SYS_ADMIN: clone with the flag is refused, clone3 is "not implemented".
fn clone_rules() -> [Value; 2] {
    [
        json!({ "names": ["clone"], "action": "SCMP_ACT_ERRNO", "errnoRet": libc::EPERM,
                "args": [{ "index": 0, "value": CLONE_NEWUSER, "valueTwo": CLONE_NEWUSER, "op": "SCMP_CMP_MASKED_EQ" }] }),
        json!({ "names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": libc::ENOSYS }),
    ]
}

/// A bundle running the payload under `seccomp`, with the host's /usr read-only in
/// the rootfs for perl and its libraries.
fn bundle(program: &Path, seccomp: Value) -> Bundle {
    let bundle = Bundle::spec_by(program, &["perl", "-e", PAYLOAD]);
    for (link, to) in [("lib", "usr/lib"), ("lib64", "usr/lib64")] {
        std::os::unix::fs::symlink(to, bundle.rootfs().join(link)).unwrap();
    }
    bundle.edit(|c| {
        c["mounts"].as_array_mut().unwrap().push(json!({
            "destination": "/usr", "type": "bind", "source": "/usr", "options": ["rbind", "ro", "nosuid", "nodev"]
        }));
        c["linux"]["seccomp"] = seccomp;
    });
    bundle
}

/// Runs the payload and returns its answers, call → answer, with "new namespace" for
/// a child whose user namespace is not the payload's.
fn answers(runtime: &Runtime, program: &Path, seccomp: Value) -> BTreeMap<String, String> {
    let bundle = bundle(program, seccomp);
    let id = numbered("clone");
    let out = runtime.run_to_end(&bundle, &id);
    let mut lines: BTreeMap<String, String> = out
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
        .collect();
    let mine =
        lines.remove("ns").unwrap_or_else(|| panic!("the payload did not run: {out}{}", runtime.err(&id)));
    for answer in lines.values_mut() {
        if answer.starts_with("user:[") {
            *answer = if *answer == mine { "same namespace".into() } else { "new namespace".into() };
        }
    }
    lines
}

fn expect(got: &BTreeMap<String, String>, call: &str, want: &str, runtime: &str, why: &str) {
    assert_eq!(
        got.get(call).map(String::as_str),
        Some(want),
        "{call} on {runtime}: {why}; all answers: {got:?}"
    );
}

/// With only the unshare rule, clone and clone3 make a user namespace anyway: the
/// attack works, on bang-oci and on runc alike.
#[test]
fn an_unshare_rule_alone_is_bypassed_through_clone_and_clone3() {
    root();
    for (name, runtime) in [("bang-oci", Runtime::new(SUITE)), ("runc", Runtime::runc(SUITE))] {
        let program = runtime_program(name);
        let got = answers(&runtime, &program, allow_but(json!([unshare_rule()])));
        expect(&got, "unshare", "errno 38", name, "the rule answers ENOSYS");
        expect(&got, "clone", "new namespace", name, "clone takes the same flag and no rule checks it");
        expect(
            &got,
            "clone3",
            "new namespace",
            name,
            "clone3 takes the flag in memory the filter cannot read",
        );
    }
}

/// With Docker's two rules added, every way is closed: clone with the flag gets
/// EPERM, clone3 gets ENOSYS whatever its flags.
#[test]
fn clone_and_clone3_rules_close_the_gap() {
    root();
    let [clone, clone3] = clone_rules();
    for (name, runtime) in [("bang-oci", Runtime::new(SUITE)), ("runc", Runtime::runc(SUITE))] {
        let program = runtime_program(name);
        let got = answers(&runtime, &program, allow_but(json!([unshare_rule(), clone, clone3])));
        expect(&got, "unshare", "errno 38", name, "the unshare rule");
        expect(&got, "clone", "errno 1", name, "the clone rule masks CLONE_NEWUSER");
        expect(&got, "clone3", "errno 38", name, "clone3 is refused outright");
    }
}

/// Which binary writes the bundle's config.json for a runtime.
fn runtime_program(name: &str) -> std::path::PathBuf {
    match name {
        "runc" => bigbang_testkit::runtime::runc_path(),
        _ => bigbang_testkit::runtime::bang_oci_path(),
    }
}
