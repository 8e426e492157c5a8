#!/usr/bin/env python3
"""Checks deploy/k8s and deploy/docker-compose.yml without a cluster: every manifest parses and has
what Kubernetes requires, selectors match the pod labels they select, Services select a
workload, referenced ConfigMaps and Secrets exist, the ConfigMap's scenario is
scenarios/smoke.yaml; the compose file has its three services on one image, with the options
through the environment. Prints one line per problem; exit 1 if any.
Usage: deploy_check.py SRC_DIR
"""
import os
import sys

import yaml

problems = []


def bad(where, what):
    problems.append("%s: %s" % (where, what))


def subset(small, big):
    return all(big.get(k) == v for k, v in (small or {}).items())


def check_k8s(src):
    folder = os.path.join(src, "deploy", "k8s")
    docs = []
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".yaml"):
            continue
        path = os.path.join(folder, name)
        try:
            loaded = [d for d in yaml.safe_load_all(open(path)) if d is not None]
        except yaml.YAMLError as e:
            bad(path, "does not parse: %s" % e)
            continue
        if not loaded:
            bad(path, "no manifest in it")
        for i, d in enumerate(loaded):
            docs.append(("%s[%d]" % (name, i), d))
    workloads, names = [], {}
    for where, d in docs:
        for key in ("apiVersion", "kind", "metadata"):
            if key not in d:
                bad(where, "no %s" % key)
        name = (d.get("metadata") or {}).get("name")
        if not name:
            bad(where, "no metadata.name")
        kind = d.get("kind")
        names.setdefault(kind, set()).add(name)
        spec = d.get("spec") or {}
        if kind in ("Deployment", "Job"):
            tmpl = spec.get("template") or {}
            labels = (tmpl.get("metadata") or {}).get("labels") or {}
            if kind == "Deployment":
                sel = (spec.get("selector") or {}).get("matchLabels")
                if not sel:
                    bad(where, "a Deployment needs spec.selector.matchLabels")
                elif not subset(sel, labels):
                    bad(where, "spec.selector %s does not match the pod labels %s" % (sel, labels))
            pod = tmpl.get("spec") or {}
            if kind == "Job" and pod.get("restartPolicy") not in ("Never", "OnFailure"):
                bad(where, "a Job's pods need restartPolicy Never or OnFailure")
            containers = pod.get("containers") or []
            if not containers:
                bad(where, "no containers")
            for c in containers:
                if not c.get("name") or not c.get("image"):
                    bad(where, "a container needs a name and an image")
                for e in c.get("env") or []:
                    if "name" not in e or ("value" not in e and "valueFrom" not in e):
                        bad(where, "env entry %s needs a name and a value" % e)
            workloads.append((where, labels, pod))
    for where, d in docs:
        if d.get("kind") != "Service":
            continue
        sel = (d.get("spec") or {}).get("selector") or {}
        if not sel or not any(subset(sel, labels) for _, labels, _ in workloads):
            bad(where, "the Service selects no workload (%s)" % sel)
        for p in (d.get("spec") or {}).get("ports") or []:
            if "port" not in p:
                bad(where, "a Service port needs port:")
    for where, _, pod in workloads:
        for v in pod.get("volumes") or []:
            cm = (v.get("configMap") or {}).get("name")
            if cm and cm not in names.get("ConfigMap", set()):
                bad(where, "volume %s needs ConfigMap %s, which no manifest defines" % (v.get("name"), cm))
        for c in pod.get("containers") or []:
            for e in c.get("env") or []:
                sk = (e.get("valueFrom") or {}).get("secretKeyRef") or {}
                ref = sk.get("name")
                if ref and ref not in names.get("Secret", set()):
                    bad(where, "env %s needs Secret %s, which no manifest defines" % (e["name"], ref))
                elif ref:
                    sec = [d for _, d in docs if d.get("kind") == "Secret"
                           and d["metadata"]["name"] == ref][0]
                    keys = set((sec.get("stringData") or {})) | set((sec.get("data") or {}))
                    if sk.get("key") not in keys:
                        bad(where, "env %s needs key %s in Secret %s" % (e["name"], sk.get("key"), ref))
    smoke = open(os.path.join(src, "scenarios", "smoke.yaml")).read()
    for where, d in docs:
        if d.get("kind") == "ConfigMap" and d["metadata"]["name"] == "hornet-scenario":
            if (d.get("data") or {}).get("smoke.yaml") != smoke:
                bad(where, "smoke.yaml differs from scenarios/smoke.yaml")


def check_compose(src):
    path = os.path.join(src, "deploy", "docker-compose.yml")
    try:
        c = yaml.safe_load(open(path))
    except yaml.YAMLError as e:
        bad(path, "does not parse: %s" % e)
        return
    services = c.get("services") or {}
    for s in ("master", "worker", "target"):
        if s not in services:
            bad(path, "no %s service" % s)
    images = {(v or {}).get("image") for v in services.values()}
    if len(images) != 1:
        bad(path, "the services should run one image, not %s" % images)
    master = services.get("master") or {}
    if (master.get("build") or {}).get("dockerfile") != "deploy/Dockerfile":
        bad(path, "the master builds deploy/Dockerfile")
    env = master.get("environment") or {}
    for k in ("LOCUST_USERS", "LOCUST_SPAWN_RATE", "LOCUST_RUN_TIME", "LOCUST_EXPECT_WORKERS",
              "LOCUST_LOCUSTFILE", "LOCUST_HOST"):
        if k not in env:
            bad(path, "the master's environment has no %s" % k)
    if "reports" not in (c.get("volumes") or {}):
        bad(path, "no reports volume")


def check_dashboard(src):
    import json
    path = os.path.join(src, "deploy", "grafana-dashboard.json")
    try:
        d = json.load(open(path))
    except ValueError as e:
        bad(path, "is not JSON: %s" % e)
        return
    for p in d.get("panels") or []:
        for t in p.get("targets") or []:
            if "hornet_" not in t.get("expr", ""):
                bad(path, "panel %s: a query without hornet's metrics" % p.get("title"))
    if not d.get("panels"):
        bad(path, "no panels")


def main():
    src = sys.argv[1]
    check_k8s(src)
    check_compose(src)
    check_dashboard(src)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
