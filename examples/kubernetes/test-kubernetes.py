#!/usr/bin/env python3
"""make test-kubernetes: the command lines of the Kubernetes example, run here without Kubernetes.

Reads datasan-scan-job.yaml (an Indexed Job) and datasan-merge-job.yaml, checks that they fit
together (completionMode Indexed; --shards equal to completions; the merge mounts the claim the
scan pods write to), then runs each pod's container command as the kubelet would: the command and
args as written, the container's env plus JOB_COMPLETION_INDEX = the pod's index, every
persistentVolumeClaim a local folder mounted at its mountPath (the paths of the command rewritten
to it). The dataset claim holds a fixture as the file the Job names; the merged report, its JUnit
and the merge pod's exit code must equal one `datasan scan` of that file.

DATASAN: the binary (default .build/release/datasan), put first on the PATH as `datasan`.
Skips (exit 0, saying why) while that datasan has no merge command. About 2 s.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# The fixtures placed in the dataset claim as the Job's input: one that fails the gate, one that
# passes (the merge pod's exit code is checked both ways).
FIXTURES = ["Fixtures/hdf5/dirty.h5", "Fixtures/hdf5/clean_small.h5"]


def fail(message):
    print(f"test-kubernetes: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def load_job(name):
    import yaml  # PyYAML (make pydeps)

    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        job = yaml.safe_load(f)
    if job.get("kind") != "Job" or job.get("apiVersion") != "batch/v1":
        fail(f"{name}: not a batch/v1 Job")
    pod = job["spec"]["template"]["spec"]
    if pod.get("restartPolicy") not in ("Never", "OnFailure"):
        fail(f"{name}: a Job's pods need restartPolicy Never or OnFailure")
    if len(pod["containers"]) != 1:
        fail(f"{name}: expected one container")
    return job, pod


def claims(pod, writable_only=False):
    """mountPath -> claimName for the container's persistentVolumeClaim mounts."""
    volumes = {v["name"]: v["persistentVolumeClaim"]["claimName"]
               for v in pod.get("volumes", []) if "persistentVolumeClaim" in v}
    return {m["mountPath"]: volumes[m["name"]] for m in pod["containers"][0].get("volumeMounts", [])
            if m["name"] in volumes and not (writable_only and m.get("readOnly"))}


def localize(text, mounts):
    """The container's paths (under a mountPath) as the local folders standing for the claims."""
    for mount_path, local in sorted(mounts.items(), key=lambda kv: -len(kv[0])):
        text = re.sub(r"(?<![\w./-])" + re.escape(mount_path.rstrip("/")) + r"(?=/|\b)", local, text)
    return text


def run_pod(pod, mounts, index, bindir, cwd):
    """Runs the pod's container command; returns (exit code, output)."""
    container = pod["containers"][0]
    argv = [localize(a, mounts) for a in container.get("command", []) + container.get("args", [])]
    if not argv:
        fail("a container without command: the image's entrypoint is not known here")
    env = {"PATH": bindir + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
           "HOME": cwd, "HOSTNAME": f"datasan-pod-{index}"}
    for e in container.get("env", []):
        if "value" in e:
            env[e["name"]] = localize(str(e["value"]), mounts)
    if index is not None:
        env["JOB_COMPLETION_INDEX"] = str(index)  # what an Indexed Job's pod gets
    p = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=120)
    return p.returncode, p.stdout


def junit_without_times(path):
    with open(path, encoding="utf-8") as f:
        return re.sub(r' time="[^"]*"', "", f.read())


def main():
    datasan = os.path.abspath(os.environ.get("DATASAN", os.path.join(ROOT, ".build/release/datasan")))
    if not os.access(datasan, os.X_OK):
        fail(f"no datasan binary at {datasan} (make release)")
    # Until issue 14's merge is in, there is nothing to test; any other failure of `merge --help` fails.
    help = subprocess.run([datasan, "merge", "--help"], capture_output=True, text=True)
    if help.returncode != 0:
        if "Unknown subcommand 'merge'" in help.stdout + help.stderr:
            print(f"test-kubernetes: skipped: {datasan} has no merge command (issue 14 items 1-3)")
            return 0
        fail(f"{datasan} merge --help: {help.stdout}{help.stderr}")

    scan_job, scan_pod = load_job("datasan-scan-job.yaml")
    merge_job, merge_pod = load_job("datasan-merge-job.yaml")
    spec = scan_job["spec"]
    if spec.get("completionMode") != "Indexed":
        fail("datasan-scan-job.yaml: completionMode must be Indexed (pods get JOB_COMPLETION_INDEX)")
    shards = int(spec["completions"])
    script = " ".join(scan_pod["containers"][0].get("command", []) + scan_pod["containers"][0].get("args", []))
    m = re.search(r"--shards[ =](\d+)", script)
    if not m or int(m.group(1)) != shards:
        fail(f"datasan-scan-job.yaml: --shards must equal completions ({shards}): {script!r}")
    if "$JOB_COMPLETION_INDEX" not in script and "$(JOB_COMPLETION_INDEX)" not in script:
        fail("datasan-scan-job.yaml: the report name must hold JOB_COMPLETION_INDEX (one part per pod)")
    if not 1 <= int(spec.get("parallelism", 1)) <= shards:
        fail("datasan-scan-job.yaml: parallelism must be within 1..completions")
    scan_mounts, merge_mounts = claims(scan_pod), claims(merge_pod)
    written = sorted(set(merge_mounts.values()) & set(claims(scan_pod, writable_only=True).values()))
    if len(written) != 1:
        fail("datasan-merge-job.yaml must mount the one claim the scan pods write to")
    inputs = re.findall(r"datasan scan (\S+)", script)
    if len(inputs) != 1:
        fail(f"datasan-scan-job.yaml: expected one `datasan scan INPUT`: {script!r}")
    # datasan merge opens the input at the path the shards had.
    for mount_path, claim in scan_mounts.items():
        if inputs[0].startswith(mount_path.rstrip("/") + "/") and merge_mounts.get(mount_path) != claim:
            fail(f"datasan-merge-job.yaml: the merge opens {inputs[0]}: mount claim {claim} at {mount_path}")
    if scan_pod["containers"][0].get("workingDir") != merge_pod["containers"][0].get("workingDir"):
        fail("the scan pods and the merge pod must have one workingDir (a part records the scan's directory)")

    # The single run: no engine environment (this test may itself run in a job array or a pod).
    unsharded = {k: v for k, v in os.environ.items()
                 if k != "JOB_COMPLETION_INDEX" and not k.startswith("SLURM_ARRAY_")}
    work = tempfile.mkdtemp(prefix="datasan-k8s.")
    try:
        bindir = os.path.join(work, "bin")
        os.makedirs(bindir)
        os.symlink(datasan, os.path.join(bindir, "datasan"))
        for fixture in FIXTURES:
            case = os.path.join(work, os.path.basename(fixture))
            # One local folder per claim, shared by every pod that mounts it.
            folders = {}
            for claim in set(scan_mounts.values()) | set(merge_mounts.values()):
                folders[claim] = os.path.join(case, "claims", claim)
                os.makedirs(folders[claim])
            scan_local = {p: folders[c] for p, c in scan_mounts.items()}
            merge_local = {p: folders[c] for p, c in merge_mounts.items()}
            dataset = localize(inputs[0], scan_local)
            if dataset == inputs[0]:
                fail(f"datasan-scan-job.yaml: the input {inputs[0]} is on no mounted claim")
            os.symlink(os.path.join(ROOT, fixture), dataset)

            single = subprocess.run([datasan, "scan", dataset, "--report", os.path.join(case, "single.json"),
                                     "--junit", os.path.join(case, "single.xml"), "--quiet"],
                                    capture_output=True, text=True, env=unsharded)
            if single.returncode not in (0, 1):
                fail(f"{fixture}: the single run could not run: {single.stdout}{single.stderr}")

            # Every pod runs in the image's working directory: one folder stands for it.
            workdir = os.path.join(case, "workdir")
            os.makedirs(workdir)
            for index in range(shards):
                code, out = run_pod(scan_pod, scan_local, index, bindir, workdir)
                if code != 0:
                    fail(f"{fixture}: scan pod {index} exited {code}:\n{out}")
            code, out = run_pod(merge_pod, merge_local, None, bindir, workdir)
            if code != single.returncode:
                fail(f"{fixture}: the merge pod exited {code}, one datasan scan exits {single.returncode}:\n{out}")
            reports = folders[written[0]]
            parts = sorted(f for f in os.listdir(reports) if re.fullmatch(r"part-.*\.json", f))
            if parts != sorted(f"part-{i}.json" for i in range(shards)):
                fail(f"{fixture}: the scan pods wrote {parts}, not part-0..{shards - 1}.json")
            cmp = subprocess.run([sys.executable, os.path.join(ROOT, "examples/compare-reports.py"),
                                  os.path.join(case, "single.json"), os.path.join(reports, "all.json")])
            if cmp.returncode != 0:
                fail(f"{fixture}: the merged report differs from one datasan scan's")
            if junit_without_times(os.path.join(case, "single.xml")) != junit_without_times(os.path.join(reports, "all.xml")):
                fail(f"{fixture}: the merged JUnit differs from one datasan scan's (times aside): "
                     f"{os.path.join(case, 'single.xml')} vs {os.path.join(reports, 'all.xml')}")
            print(f"test-kubernetes: {fixture}: {shards} pods + merge = one datasan scan (exit {code})")
    except BaseException:
        print(f"test-kubernetes: the claims' and the pods' folders are in {work}", file=sys.stderr)
        raise
    shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
