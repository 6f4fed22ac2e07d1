#!/usr/bin/env python3
"""Renders helm/postern with `helm template` and checks the objects it produces.

Run by scripts/test-chart, which provides HELM (the pinned helm binary) and PyYAML. Each
check() is one assertion; bad values must be refused by values.schema.json with its message.
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "postern"
FULL_VALUES = CHART / "ci" / "full-values.yaml"
DOCS_ALERTS = ROOT / "docs" / "prometheus" / "postern-alerts.yml"
CHART_ALERTS = CHART / "files" / "postern-alerts.yml"
HELM = os.environ.get("HELM", "helm")
RELEASE = "mail"
NAMESPACE = "postern"
SCHEMA_FAILURE = "values don't meet the specifications of the schema"

passed = 0
failures = []


def check(condition, what):
    """Counts one assertion; a failure is collected so one run reports all of them."""
    global passed
    if condition:
        passed += 1
    else:
        failures.append(what)


def helm_template(*args, chart=CHART):
    return subprocess.run([HELM, "template", RELEASE, str(chart), "--namespace", NAMESPACE, *args],
                          capture_output=True, text=True)


def render(*args, chart=CHART):
    result = helm_template(*args, chart=chart)
    if result.returncode != 0:
        sys.exit(f"helm template {' '.join(args)} failed:\n{result.stderr}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def render_notes(*args):
    """NOTES.txt is not part of `helm template`'s output: render it as a manifest in a copy."""
    with tempfile.TemporaryDirectory() as tmp:
        chart = pathlib.Path(tmp) / "postern"
        shutil.copytree(CHART, chart)
        notes = chart / "templates" / "NOTES.txt"
        (chart / "templates" / "_notes_under_test.tpl").write_text(
            '{{- define "test.notes" -}}\n' + notes.read_text() + "\n{{- end }}\n")
        notes.unlink()
        (chart / "templates" / "notes-under-test.yaml").write_text(
            'apiVersion: test/v1\nkind: NotesUnderTest\ntext: {{ include "test.notes" . | toJson }}\n')
        return only(render(*args, chart=chart), "NotesUnderTest")["text"]


def kinds(docs):
    return sorted(doc["kind"] for doc in docs)


def only(docs, kind):
    found = [doc for doc in docs if doc["kind"] == kind]
    if len(found) != 1:
        sys.exit(f"expected one {kind}, rendered {len(found)}")
    return found[0]


def service(docs, suffix=""):
    """The http Service (the release's full name) or the one named with a suffix (-management)."""
    name = only(docs, "Deployment")["metadata"]["name"] + suffix
    found = [doc for doc in docs if doc["kind"] == "Service" and doc["metadata"]["name"] == name]
    if len(found) != 1:
        sys.exit(f"expected one Service {name}, rendered {len(found)}")
    return found[0]


def labels_match(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def broker(docs):
    return only(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]


def env_of(docs):
    return {e["name"]: e for e in broker(docs)["env"]}


def env_value(docs, name):
    entry = env_of(docs).get(name)
    return None if entry is None else entry.get("value")


def secret_ref(docs, name):
    entry = env_of(docs).get(name, {})
    return entry.get("valueFrom", {}).get("secretKeyRef")


def pod_labels(docs):
    return only(docs, "Deployment")["spec"]["template"]["metadata"]["labels"]


def selects_pods(selector, docs):
    labels = pod_labels(docs)
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


# Secret-looking env names that hold no secret: file paths and a key's name.
NOT_SECRET = {"POSTERN_STORE_VAULT_TRANSIT_KEY", "POSTERN_ACCESS_BOOTSTRAP_KEY_FILE",
              "SPRING_SSL_BUNDLE_PEM_MAIL_KEYSTORE_CERTIFICATE", "SPRING_SSL_BUNDLE_PEM_MAIL_KEYSTORE_PRIVATEKEY"}
SECRET_NAME = re.compile(r"TOKEN|SECRET|KEY|PASSWORD|ROLE_ID")


def check_no_inline_secrets(docs, scenario):
    check("Secret" not in kinds(docs), f"{scenario}: the chart renders no Secret of its own")
    for name, entry in env_of(docs).items():
        if SECRET_NAME.search(name) and name not in NOT_SECRET:
            check("value" not in entry and "secretKeyRef" in entry.get("valueFrom", {}),
                  f"{scenario}: env {name} comes from a secretKeyRef, never inline")


def check_defaults():
    docs = render()
    check(kinds(docs) == ["Deployment", "NetworkPolicy", "PodDisruptionBudget", "Service", "Service", "ServiceAccount"],
          f"defaults render exactly the core objects, got {kinds(docs)}")
    deployment = only(docs, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    container = broker(docs)
    check(deployment["spec"]["replicas"] == 2, "two replicas by default")
    check(pod["securityContext"]["runAsNonRoot"] is True, "pod runAsNonRoot")
    check(pod["securityContext"]["runAsUser"] == 10001, "pod runs as uid 10001")
    check(pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, "pod seccomp RuntimeDefault")
    sc = container["securityContext"]
    check(sc["readOnlyRootFilesystem"] is True, "readOnlyRootFilesystem")
    check(sc["allowPrivilegeEscalation"] is False, "no privilege escalation")
    check(sc["capabilities"] == {"drop": ["ALL"]}, "capabilities drop ALL and add none")
    check(sc["runAsNonRoot"] is True, "container runAsNonRoot")
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    check("emptyDir" in volumes.get(mounts.get("/tmp"), {}), "/tmp is an emptyDir")
    check(container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"},
                                 {"name": "management", "containerPort": 8081, "protocol": "TCP"}],
          "port 8080 named http, 8081 named management")
    check(env_value(docs, "MANAGEMENT_SERVER_PORT") == "8081", "the actuator moves to port management (MANAGEMENT_SERVER_PORT)")
    check(container["startupProbe"]["httpGet"] == {"path": "/actuator/health/liveness", "port": "management"},
          "startup probe path, on port management")
    check(container["livenessProbe"]["httpGet"] == {"path": "/actuator/health/liveness", "port": "management"},
          "liveness probe path, on port management")
    check(container["readinessProbe"]["httpGet"] == {"path": "/actuator/health/readiness", "port": "management"},
          "readiness probe path, on port management")
    for bound in ("requests", "limits"):
        check(set(container["resources"].get(bound, {})) == {"cpu", "memory"}, f"resources {bound} for cpu and memory")
    for name, value in {"POSTERN_STORE": "vault", "POSTERN_ADDRESS": "0.0.0.0", "POSTERN_PORT": "8080",
                        "VAULT_ADDR": "https://vault.vault.svc:8200", "POSTERN_STORE_VAULT_KV_MOUNT": "secret",
                        "POSTERN_STORE_VAULT_PREFIX": "postern/", "POSTERN_STORE_VAULT_TRANSIT_MOUNT": "transit",
                        "POSTERN_STORE_VAULT_TRANSIT_KEY": "postern", "POSTERN_STORE_VAULT_AUTHENTICATION": "kubernetes",
                        "POSTERN_STORE_VAULT_KUBERNETES_ROLE": "postern",
                        "POSTERN_STORE_VAULT_KUBERNETES_PATH": "kubernetes"}.items():
        check(env_value(docs, name) == value, f"defaults: env {name}={value}, got {env_value(docs, name)}")
    check(env_value(docs, "POSTERN_ACCESS_BOOTSTRAP_KEY_FILE").startswith("/tmp/"),
          "a generated bootstrap key is written under the writable /tmp")
    for absent in ("VAULT_TOKEN", "POSTERN_STORE_VAULT_APP_ROLE_ROLE_ID", "POSTERN_STORE_VAULT_APP_ROLE_SECRET_ID",
                   "POSTERN_BOOTSTRAP_ADMIN_KEY", "POSTERN_STORE_VAULT_CA_CERTIFICATE", "POSTERN_PUBLIC_URL",
                   "POSTERN_FORWARD_HEADERS_STRATEGY", "POSTERN_TRUSTED_PROXIES"):
        check(absent not in env_of(docs), f"defaults: no env {absent}")
    check(pod["automountServiceAccountToken"] is True, "kubernetes auth mounts the service account token")
    account = only(docs, "ServiceAccount")
    check(pod["serviceAccountName"] == account["metadata"]["name"], "the pod runs as the chart's service account")

    http = service(docs)
    check(http["spec"]["ports"] == [{"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}],
          "Service port http -> http, and no other port")
    check(selects_pods(http["spec"]["selector"], docs), "Service selects the broker pods")
    management = service(docs, "-management")
    check(management["spec"]["type"] == "ClusterIP", "the management Service is ClusterIP")
    check(management["spec"]["ports"] == [{"name": "management", "port": 8081, "targetPort": "management", "protocol": "TCP"}],
          "management Service port management -> management")
    check(selects_pods(management["spec"]["selector"], docs), "the management Service selects the broker pods")

    pdb = only(docs, "PodDisruptionBudget")
    check(pdb["spec"]["minAvailable"] == 1, "PDB minAvailable 1")
    check(selects_pods(pdb["spec"]["selector"]["matchLabels"], docs), "PDB selects the broker pods")

    policy = only(docs, "NetworkPolicy")["spec"]
    check(selects_pods(policy["podSelector"]["matchLabels"], docs), "NetworkPolicy selects the broker pods")
    check(policy["policyTypes"] == ["Ingress", "Egress"], "NetworkPolicy restricts both directions")
    check(policy["ingress"] == [{"ports": [{"port": "http", "protocol": "TCP"}]}],
          "defaults: ingress only on port http; no pod may reach port management")
    egress = policy["egress"]
    check({(p["port"], p["protocol"]) for p in egress[0]["ports"]} == {(53, "UDP"), (53, "TCP")}, "egress DNS on 53")
    check(egress[0]["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}, "DNS egress only to kube-dns")
    check(egress[1] == {"ports": [{"port": 8200, "protocol": "TCP"}]}, "egress to Vault's port from vault.address")
    check(egress[2] == {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 443, "protocol": "TCP"}]},
          "egress to the identity providers on 443")
    check(len(egress) == 3, "no other egress by default")
    check(not [name for name in env_of(docs) if "MAIL" in name], "defaults: the mail proxy is off, no env for it")
    check_no_inline_secrets(docs, "defaults")


def check_full_values():
    docs = render("-f", str(FULL_VALUES))
    check(kinds(docs) == ["Deployment", "Ingress", "NetworkPolicy", "PodDisruptionBudget", "PrometheusRule",
                          "Service", "Service", "Service", "ServiceAccount", "ServiceMonitor"],
          f"full values render every object, got {kinds(docs)}")
    pod = only(docs, "Deployment")["spec"]["template"]["spec"]
    check(only(docs, "Deployment")["spec"]["replicas"] == 3, "replicaCount is used")
    check(env_value(docs, "POSTERN_STORE_VAULT_AUTHENTICATION") == "approle", "approle: authentication env")
    check(env_value(docs, "POSTERN_STORE_VAULT_APP_ROLE_PATH") == "approle-mail", "approle: mount path env")
    check(secret_ref(docs, "POSTERN_STORE_VAULT_APP_ROLE_ROLE_ID") == {"name": "postern-approle", "key": "role-id"},
          "approle: role id from the existing Secret")
    check(secret_ref(docs, "POSTERN_STORE_VAULT_APP_ROLE_SECRET_ID") == {"name": "postern-approle", "key": "secret-id"},
          "approle: secret id from the existing Secret")
    check("POSTERN_STORE_VAULT_KUBERNETES_ROLE" not in env_of(docs), "approle: no kubernetes role env")
    check(pod["automountServiceAccountToken"] is False, "approle: no service account token in the pod")
    check(secret_ref(docs, "POSTERN_BOOTSTRAP_ADMIN_KEY") == {"name": "postern-bootstrap", "key": "admin-key"},
          "bootstrap admin key from the existing Secret")
    ca_path = env_value(docs, "POSTERN_STORE_VAULT_CA_CERTIFICATE")
    mounts = {m["name"]: m for m in broker(docs)["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    check(ca_path == mounts["vault-ca"]["mountPath"] + "/ca.pem" and mounts["vault-ca"]["readOnly"] is True,
          "CA certificate env points into its read-only mount")
    check(volumes["vault-ca"]["configMap"] == {"name": "vault-ca", "items": [{"key": "ca.pem", "path": "ca.pem"}]},
          "CA certificate from the ConfigMap")
    check(env_value(docs, "LOGGING_LEVEL_DEV_POSTERN") == "DEBUG", "extraEnv is rendered")

    ingress = only(docs, "Ingress")["spec"]
    check(ingress["tls"] == [{"secretName": "postern-tls", "hosts": ["postern.example.com"]}], "Ingress TLS")
    backend = ingress["rules"][0]["http"]["paths"][0]["backend"]["service"]
    check(backend == {"name": service(docs)["metadata"]["name"], "port": {"name": "http"}},
          "Ingress routes to the Service's http port")

    check(env_value(docs, "POSTERN_PUBLIC_URL") == "https://postern.example.com", "publicUrl becomes POSTERN_PUBLIC_URL")
    check(env_value(docs, "MANAGEMENT_SERVER_PORT") == "9000", "management.port becomes MANAGEMENT_SERVER_PORT")
    check({"name": "management", "containerPort": 9000, "protocol": "TCP"} in broker(docs)["ports"],
          "management.port is the container port named management")
    check(service(docs, "-management")["spec"]["ports"][0]["port"] == 9000, "management.port is the management Service's port")

    monitor = only(docs, "ServiceMonitor")
    endpoint = monitor["spec"]["endpoints"][0]
    check(endpoint["path"] == "/actuator/prometheus" and endpoint["port"] == "management",
          "ServiceMonitor scrapes /actuator/prometheus on port management")
    check(endpoint["authorization"] == {"type": "Bearer", "credentials": {"name": "postern-monitor", "key": "api-key"}},
          "ServiceMonitor's key from the existing Secret")
    check(monitor["metadata"]["labels"].get("release") == "kube-prometheus-stack", "ServiceMonitor selector labels")
    monitor_selector = monitor["spec"]["selector"]["matchLabels"]
    check(labels_match(monitor_selector, service(docs, "-management")["metadata"]["labels"]),
          "ServiceMonitor selects the management Service")
    check(not labels_match(monitor_selector, service(docs)["metadata"]["labels"]),
          "ServiceMonitor does not select the http Service")
    check(monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}, "ServiceMonitor looks in the release namespace")

    rule = only(docs, "PrometheusRule")
    check(rule["metadata"]["labels"].get("release") == "kube-prometheus-stack", "PrometheusRule selector labels")
    check(rule["spec"] == yaml.safe_load(DOCS_ALERTS.read_text()),
          "PrometheusRule groups equal docs/prometheus/postern-alerts.yml")

    policy = only(docs, "NetworkPolicy")["spec"]
    check(policy["ingress"][0]["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}},
        {"podSelector": {"matchLabels": {"app": "nocobase"}}}], "ingress only from the configured selectors")
    check(policy["ingress"][0]["ports"] == [{"port": "http", "protocol": "TCP"}], "ingressFrom opens port http only")
    check(policy["ingress"][1:2] == [{"ports": [{"port": "management", "protocol": "TCP"}], "from": [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
         "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}}]}],
          "port management only from managementFrom")
    check(policy["egress"][1] == {"ports": [{"port": 443, "protocol": "TCP"}], "to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}]},
          "Vault egress: https without a port means 443, limited to vaultTo")
    check(policy["egress"][-1] == {"ports": [{"port": 587, "protocol": "TCP"}]}, "extraEgress is appended")
    check(only(docs, "PodDisruptionBudget")["spec"]["minAvailable"] == 2, "PDB minAvailable from values")
    check_no_inline_secrets(docs, "full values")


# The mail proxy's listeners: name, container port, broker setting (env) of the port.
MAIL_LISTENERS = [("imaps", 10993, "POSTERN_MAIL_PROXY_IMAPS_PORT"), ("imap", 10143, "POSTERN_MAIL_PROXY_IMAP_PORT"),
                  ("smtps", 10465, "POSTERN_MAIL_PROXY_SMTPS_PORT"),
                  ("submission", 10587, "POSTERN_MAIL_PROXY_SUBMISSION_PORT")]


def check_mail_proxy():
    docs = render("-f", str(FULL_VALUES))
    container = broker(docs)
    for name, value in {"POSTERN_MAIL_PROXY_ENABLED": "true", "POSTERN_MAIL_PROXY_BIND_ADDRESS": "0.0.0.0",
                        "POSTERN_MAIL_PROXY_SSL_BUNDLE": "mail",
                        "SPRING_SSL_BUNDLE_PEM_MAIL_RELOADONUPDATE": "true"}.items():
        check(env_value(docs, name) == value, f"mail proxy: env {name}={value}, got {env_value(docs, name)}")
    mount = {m["name"]: m for m in container["volumeMounts"]}.get("mail-tls", {})
    check(mount.get("readOnly") is True and "subPath" not in mount,
          "mail proxy: the certificate's Secret is mounted read-only as a folder (no subPath, so renewals arrive)")
    for env, key in (("SPRING_SSL_BUNDLE_PEM_MAIL_KEYSTORE_CERTIFICATE", "tls.crt"),
                     ("SPRING_SSL_BUNDLE_PEM_MAIL_KEYSTORE_PRIVATEKEY", "tls.key")):
        check(env_value(docs, env) == f"file:{mount.get('mountPath')}/{key}", f"mail proxy: {env} names {key} in the mount")
    volumes = {v["name"]: v for v in only(docs, "Deployment")["spec"]["template"]["spec"]["volumes"]}
    check(volumes.get("mail-tls", {}).get("secret") == {"secretName": "postern-mail-tls", "items": [
        {"key": "tls.crt", "path": "tls.crt"}, {"key": "tls.key", "path": "tls.key"}]},
          "mail proxy: certificate and key from the existing Secret")
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    for name, container_port, env in MAIL_LISTENERS:
        check(ports.get(name) == container_port and env_value(docs, env) == str(container_port),
              f"mail proxy: {name} listens on container port {container_port} ({env}) above 1024, no capability needed")
    mail = service(docs, "-mail")["spec"]
    check(mail["ports"] == [{"name": name, "port": port, "targetPort": name, "protocol": "TCP"} for name, port in
                            (("imaps", 993), ("imap", 143), ("smtps", 465), ("submission", 587))],
          f"mail proxy: the mail Service publishes each listener on its usual port, got {mail['ports']}")
    check(selects_pods(mail["selector"], docs), "mail proxy: the mail Service selects the broker pods")
    check(mail["type"] == "LoadBalancer" and mail["externalTrafficPolicy"] == "Local"
          and mail["loadBalancerSourceRanges"] == ["192.168.10.0/24"],
          "mail proxy: a LoadBalancer keeps client addresses (Local) and lets in the listed ranges only")
    check(service(docs, "-mail")["metadata"]["annotations"] == {
        "service.beta.kubernetes.io/aws-load-balancer-internal": "true"}, "mail proxy: Service annotations")
    check([p["name"] for p in service(docs)["spec"]["ports"]] == ["http"], "mail proxy: the http Service keeps port http only")
    policy = only(docs, "NetworkPolicy")["spec"]
    mail_rules = [rule for rule in policy["ingress"] if {"port": "imaps", "protocol": "TCP"} in rule["ports"]]
    check(mail_rules == [{"ports": [{"port": name, "protocol": "TCP"} for name, _, _ in MAIL_LISTENERS],
                          "from": [{"ipBlock": {"cidr": "192.168.10.0/24"}}]}],
          f"mail proxy: ingress on the mail ports from mailProxy.ingressFrom only, got {mail_rules}")
    check(len(policy["ingress"]) == 3, "mail proxy: ingress rules for http, management and the mail ports, no other")
    check({"to": [{"ipBlock": {"cidr": "52.96.0.0/14"}}, {"ipBlock": {"cidr": "40.96.0.0/13"}}],
           "ports": [{"port": 993, "protocol": "TCP"}, {"port": 587, "protocol": "TCP"}, {"port": 465, "protocol": "TCP"}]}
          in policy["egress"], "mail proxy: egress to the upstream CIDRs on 993, 587 and 465")
    check_no_inline_secrets(docs, "mail proxy")

    # Two listeners, in the cluster only, from anywhere.
    docs = render("--set", "mailProxy.enabled=true", "--set", "mailProxy.tls.existingSecret=mail-cert",
                  "--set", "mailProxy.listeners.imap.enabled=false", "--set", "mailProxy.listeners.smtps.enabled=false",
                  "--set", "mailProxy.listeners.imaps.port=1993")
    check(kinds(docs).count("Service") == 3, "mail proxy on: the mail Service is rendered")
    mail = service(docs, "-mail")["spec"]
    check(mail["type"] == "ClusterIP" and "externalTrafficPolicy" not in mail and "loadBalancerSourceRanges" not in mail,
          "mail proxy: ClusterIP by default, without LoadBalancer fields")
    check(mail["ports"] == [{"name": "imaps", "port": 1993, "targetPort": "imaps", "protocol": "TCP"},
                            {"name": "submission", "port": 587, "targetPort": "submission", "protocol": "TCP"}],
          f"mail proxy: only the enabled listeners, on their configured ports, got {mail['ports']}")
    ports = [p["name"] for p in broker(docs)["ports"]]
    check(ports == ["http", "management", "imaps", "submission"], f"mail proxy: container ports of enabled listeners only, got {ports}")
    present = {env for _, _, env in MAIL_LISTENERS if env in env_of(docs)}
    check(present == {"POSTERN_MAIL_PROXY_IMAPS_PORT", "POSTERN_MAIL_PROXY_SUBMISSION_PORT"},
          f"mail proxy: a disabled listener gets no port setting (the broker leaves it off), got {present}")
    policy = only(docs, "NetworkPolicy")["spec"]
    check(policy["ingress"][-1] == {"ports": [{"port": "imaps", "protocol": "TCP"}, {"port": "submission", "protocol": "TCP"}]},
          "mail proxy: without ingressFrom, the enabled mail ports from every source")
    check(policy["egress"][-1] == {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [
        {"port": 993, "protocol": "TCP"}, {"port": 587, "protocol": "TCP"}, {"port": 465, "protocol": "TCP"}]},
          "mail proxy: upstream egress to every IPv4 address by default")

    docs = render("--set", "mailProxy.tls.existingSecret=mail-cert")
    check(kinds(docs).count("Service") == 2 and "mail-tls" not in {v["name"] for v in
                                                                    only(docs, "Deployment")["spec"]["template"]["spec"]["volumes"]},
          "mail proxy off: no mail Service and no certificate mount, even with a Secret named")


def check_other_auth_and_ca():
    docs = render("--set", "vault.auth.method=token", "--set", "vault.auth.token.existingSecret=vault-trial",
                  "--set", "vault.ca.source=secret", "--set", "vault.ca.name=vault-tls")
    check(env_value(docs, "POSTERN_STORE_VAULT_AUTHENTICATION") == "token", "token: authentication env")
    check(secret_ref(docs, "VAULT_TOKEN") == {"name": "vault-trial", "key": "token"}, "token: from the existing Secret")
    check(not {"POSTERN_STORE_VAULT_KUBERNETES_ROLE", "POSTERN_STORE_VAULT_APP_ROLE_ROLE_ID"} & set(env_of(docs)),
          "token: no other method's env")
    pod = only(docs, "Deployment")["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    check(volumes["vault-ca"]["secret"] == {"secretName": "vault-tls", "items": [{"key": "ca.crt", "path": "ca.crt"}]},
          "CA certificate from a Secret")
    check(env_value(docs, "POSTERN_STORE_VAULT_CA_CERTIFICATE") == "/etc/postern/vault-ca/ca.crt", "CA env for a Secret")
    check_no_inline_secrets(docs, "token auth")

    docs = render("--set", "serviceAccount.create=false", "--set", "serviceAccount.name=postern-vault",
                  "--set", "fullnameOverride=postern", "--set", "podSecurityContext.runAsUser=null")
    check("ServiceAccount" not in kinds(docs), "an existing service account: none created")
    pod = only(docs, "Deployment")["spec"]["template"]["spec"]
    check(pod["serviceAccountName"] == "postern-vault", "an existing service account is used")
    check(only(docs, "Deployment")["metadata"]["name"] == "postern", "fullnameOverride names the objects")
    check("runAsUser" not in pod["securityContext"] and pod["securityContext"]["runAsNonRoot"] is True,
          "runAsUser null leaves the uid to the platform, still non-root")


def values_file(tmp, values):
    path = pathlib.Path(tmp) / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    return str(path)


def check_ingress_routes_http_only():
    """The Ingress reaches port http only, where the broker serves no /actuator (MANAGEMENT_SERVER_PORT)."""
    values = {"ingress": {"enabled": True, "hosts": [
        {"host": "postern.example.com", "paths": [{"path": "/", "pathType": "Prefix"},
                                                  {"path": "/actuator", "pathType": "Prefix"}]},
        {"host": "mail.example.com", "paths": [{"path": "/v1", "pathType": "Prefix"},
                                               {"path": "/connect", "pathType": "ImplementationSpecific"}]}]},
        "service": {"type": "LoadBalancer"}, "management": {"port": 9100}}
    with tempfile.TemporaryDirectory() as tmp:
        docs = render("-f", values_file(tmp, values))
    http, management = service(docs), service(docs, "-management")
    management_ports = {"management", 9100}
    backends = [path["backend"]["service"] for rule in only(docs, "Ingress")["spec"]["rules"]
                for path in rule["http"]["paths"]]
    check(len(backends) == 4, f"ingress: every configured path is rendered, got {len(backends)}")
    for backend in backends:
        check(backend == {"name": http["metadata"]["name"], "port": {"name": "http"}},
              f"ingress: backend {backend} is the http Service's port http")
        check(backend["name"] != management["metadata"]["name"], "ingress: no backend is the management Service")
        check(not management_ports & set(backend["port"].values()), f"ingress: backend {backend} never uses the management port")
    # Whatever the Ingress (or a LoadBalancer) reaches through the http Service is port http of the pod.
    check(http["spec"]["type"] == "LoadBalancer" and http["spec"]["ports"] == [
        {"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}],
          "ingress: the published Service carries port http only, whatever its type")
    check(management["spec"]["type"] == "ClusterIP", "ingress: the management Service stays ClusterIP with a LoadBalancer")
    ports = {p["name"]: p["containerPort"] for p in broker(docs)["ports"]}
    check(ports == {"http": 8080, "management": 9100} and env_value(docs, "MANAGEMENT_SERVER_PORT") == "9100",
          "ingress: the actuator listens on its own port, not on http's 8080")


def check_forwarded_headers():
    docs = render("-f", str(FULL_VALUES))
    check(env_value(docs, "POSTERN_FORWARD_HEADERS_STRATEGY") == "native",
          "trusted proxies set: forward-headers strategy native")
    trusted = env_value(docs, "POSTERN_TRUSTED_PROXIES")
    check(trusted == r"10\.42\.\d{1,3}\.\d{1,3}|192\.168\.7\.20", f"trusted proxies joined with |, got {trusted}")
    # Tomcat matches the whole address (Matcher.matches); Python's fullmatch reads this syntax the same way.
    for address, trusted_proxy in (("10.42.3.7", True), ("192.168.7.20", True), ("10.43.3.7", False),
                                   ("192.168.7.200", False), ("110.42.3.7", False), ("10.42.3.7.1", False)):
        check(bool(re.fullmatch(trusted, address)) == trusted_proxy,
              f"trusted proxies: {address} {'is' if trusted_proxy else 'is not'} trusted")
    docs = render("--set", "ingress.enabled=true")
    check(not {"POSTERN_FORWARD_HEADERS_STRATEGY", "POSTERN_TRUSTED_PROXIES"} & set(env_of(docs)),
          "no trusted proxies: forwarded headers stay off (the broker's default none)")


# Each alert the design asks for: name, a metric, the comparison that must appear, severity.
EXPECTED_ALERTS = [
    ("PosternCredentialExpiresSoon", "postern_credential_expiry_timestamp_seconds", "< 14 * 86400", "warning"),
    ("PosternCredentialExpiresWithinADay", "postern_credential_expiry_timestamp_seconds", "< 86400", "critical"),
    ("PosternCredentialExpired", "postern_credential_expiry_timestamp_seconds", "< 0", "critical"),
    ("PosternAccountsNeedReauthentication", 'postern_account_status{status="reauth_required"}', "> 0", "warning"),
    ("PosternMailboxesExpiring", 'postern_account_status{status=~"warning|expired"}', "> 0", "warning"),
    ("PosternIdentityProviderErrors", "rate(postern_idp_errors_total[", ">", "warning"),
]


def check_alert_rules():
    check(DOCS_ALERTS.read_bytes() == CHART_ALERTS.read_bytes(),
          "docs/prometheus/postern-alerts.yml and the chart's files/postern-alerts.yml are identical")
    rules = {r["alert"]: r for g in yaml.safe_load(DOCS_ALERTS.read_text())["groups"] for r in g["rules"]}
    check(sorted(rules) == sorted(a[0] for a in EXPECTED_ALERTS), f"the expected alerts exist, got {sorted(rules)}")
    for name, metric, comparison, severity in EXPECTED_ALERTS:
        rule = rules.get(name, {})
        check(metric in rule.get("expr", "") and comparison in rule.get("expr", ""), f"{name}: expr uses {metric} {comparison}")
        check(rule.get("labels", {}).get("severity") == severity, f"{name}: severity {severity}")
        check("summary" in rule.get("annotations", {}), f"{name}: has a summary")


def check_notes():
    notes = render_notes()
    check("WARNING" not in notes, "defaults: NOTES without warnings")
    check("bootstrap-admin-key" in notes, "defaults: NOTES tell where the generated admin key is")
    notes = render_notes("--set", "vault.auth.method=token", "--set", "vault.auth.token.existingSecret=t",
                         "--set", "replicaCount=1", "--set", "vault.address=http://vault:8200",
                         "--set", "ingress.enabled=true", "--set", "bootstrapAdminKey.existingSecret=b")
    for warning in ("vault.auth.method=token", "replicaCount=1", "plain http", "no TLS", "node drains"):
        check(warning in notes, f"NOTES warn about {warning}")
    check("bootstrap-admin-key" not in notes, "NOTES skip the generated key hunt when a Secret is given")
    check("publicUrl is \"empty" in notes, "NOTES warn that the Ingress is on without a public URL")
    check("forwardedHeaders.trustedProxies is empty" in notes and "ingress controller's address" in notes,
          "NOTES warn that failed-key limits and audit see the ingress controller without trusted proxies")
    check("/actuator" not in notes.split("Check it")[0] and ":8081/actuator/health" in notes,
          "NOTES check health on port management")
    notes = render_notes("--set", "ingress.enabled=true", "--set", "publicUrl=http://postern.example.com")
    check("publicUrl is \"http://postern.example.com\", not https" in notes, "NOTES warn about an http public URL")
    notes = render_notes("-f", str(FULL_VALUES))
    check("WARNING" not in notes, f"full values (https public URL, trusted proxies, TLS): NOTES without warnings, got {notes}")
    check("managementFrom" not in notes, "full values: no NOTE about managementFrom when Prometheus is listed")
    check("Service mail-postern-mail (LoadBalancer), ports imaps 993 imap 143 smtps 465 submission 587" in notes,
          "full values: NOTES name the mail Service and its ports")
    mail = ["--set", "mailProxy.enabled=true", "--set", "mailProxy.tls.existingSecret=mail-cert"]
    notes = render_notes(*mail)
    check("WARNING" not in notes and "mail-postern-mail (ClusterIP)" in notes, "mail proxy in the cluster: NOTES without warnings")
    notes = render_notes(*mail, "--set", "mailProxy.service.type=LoadBalancer",
                         "--set", "mailProxy.service.externalTrafficPolicy=Cluster")
    check("without mailProxy.service.loadBalancerSourceRanges" in notes, "NOTES warn about mail ports open to every address")
    check("externalTrafficPolicy=Cluster" in notes, "NOTES warn that Cluster hides the mail clients' addresses")
    off = [f"mailProxy.listeners.{name}.enabled=false" for name, _, _ in MAIL_LISTENERS]
    notes = render_notes(*mail, *[arg for setting in off for arg in ("--set", setting)])
    check("every mailProxy.listeners entry is off" in notes, "NOTES warn when the mail proxy is on with no listener")
    notes = render_notes("-f", str(FULL_VALUES), "--set-json", "networkPolicy.managementFrom=[]")
    check("networkPolicy.managementFrom is empty" in notes, "NOTES: a ServiceMonitor with nobody allowed on port management")


# Values the schema must refuse: (what, values, part of helm's message).
BAD_VALUES = [
    ("replicaCount as a string", {"replicaCount": "two"}, "at '/replicaCount': got string, want integer"),
    ("an unknown auth method", {"vault": {"auth": {"method": "foo"}}},
     "at '/vault/auth/method': value must be one of 'kubernetes', 'approle', 'token'"),
    ("an unknown top-level key", {"replicas": 3}, "additional properties 'replicas' not allowed"),
    ("an unknown nested key", {"vault": {"auth": {"kubernetes": {"roel": "x"}}}}, "additional properties 'roel' not allowed"),
    ("a boolean as a string", {"ingress": {"enabled": "true"}}, "at '/ingress/enabled': got string, want boolean"),
    ("approle without its Secret", {"vault": {"auth": {"method": "approle"}}},
     "at '/vault/auth/approle/existingSecret': minLength: got 0, want 1"),
    ("token without its Secret", {"vault": {"auth": {"method": "token"}}},
     "at '/vault/auth/token/existingSecret': minLength: got 0, want 1"),
    ("a CA source without a name", {"vault": {"ca": {"source": "secret"}}}, "at '/vault/ca/name': minLength: got 0, want 1"),
    ("a secret inline in extraEnv", {"extraEnv": {"VAULT_TOKEN": "hvs.inline"}}, "invalid propertyName 'VAULT_TOKEN'"),
    ("root as the user", {"podSecurityContext": {"runAsUser": 0}}, "at '/podSecurityContext/runAsUser': minimum: got 0, want 1"),
    ("a Vault address without scheme", {"vault": {"address": "vault:8200"}}, "at '/vault/address'"),
    ("an unknown Service type", {"service": {"type": "ExternalName"}}, "at '/service/type': value must be one of"),
    ("an existing service account without a name", {"serviceAccount": {"create": False}},
     "at '/serviceAccount/name': minLength: got 0, want 1"),
    ("a duration without unit", {"vault": {"readTimeout": "5"}}, "at '/vault/readTimeout'"),
    ("the management port on http's 8080", {"management": {"port": 8080}}, "at '/management/port': 'not' failed"),
    ("a management port as a string", {"management": {"port": "8081"}}, "at '/management/port': got string, want integer"),
    ("trusted proxies as one string", {"forwardedHeaders": {"trustedProxies": r"10\.42\..*"}},
     "at '/forwardedHeaders/trustedProxies': got string, want array"),
    ("a trusted proxy expression matching everybody", {"forwardedHeaders": {"trustedProxies": [".*"]}},
     "at '/forwardedHeaders/trustedProxies/0': 'not' failed"),
    ("a public URL with a trailing slash", {"publicUrl": "https://postern.example.com/"}, "at '/publicUrl'"),
    ("a public URL without scheme", {"publicUrl": "postern.example.com"}, "at '/publicUrl'"),
    ("the management port through extraEnv", {"extraEnv": {"MANAGEMENT_SERVER_PORT": "8080"}},
     "invalid propertyName 'MANAGEMENT_SERVER_PORT'"),
    ("more actuator endpoints through extraEnv", {"extraEnv": {"MANAGEMENT_ENDPOINTS_WEB_EXPOSURE_INCLUDE": "*"}},
     "invalid propertyName 'MANAGEMENT_ENDPOINTS_WEB_EXPOSURE_INCLUDE'"),
    ("trusted proxies through extraEnv", {"extraEnv": {"SERVER_TOMCAT_REMOTEIP_INTERNAL_PROXIES": ".*"}},
     "invalid propertyName 'SERVER_TOMCAT_REMOTEIP_INTERNAL_PROXIES'"),
    ("the public URL through extraEnv", {"extraEnv": {"POSTERN_PUBLIC_URL": "https://postern.example.com"}},
     "invalid propertyName 'POSTERN_PUBLIC_URL'"),
    ("a ServiceMonitor without its key", {"metrics": {"serviceMonitor": {"enabled": True}}},
     "at '/metrics/serviceMonitor/authorization/existingSecret': minLength: got 0, want 1"),
    ("the mail proxy without its certificate", {"mailProxy": {"enabled": True}},
     "at '/mailProxy/tls/existingSecret': minLength: got 0, want 1"),
    ("a mail listener port as a string", {"mailProxy": {"listeners": {"imaps": {"port": "993"}}}},
     "at '/mailProxy/listeners/imaps/port': got string, want integer"),
    ("an unknown mail listener", {"mailProxy": {"listeners": {"pop3s": {"enabled": True, "port": 995}}}},
     "additional properties 'pop3s' not allowed"),
    ("an unknown externalTrafficPolicy", {"mailProxy": {"service": {"externalTrafficPolicy": "local"}}},
     "at '/mailProxy/service/externalTrafficPolicy': value must be one of 'Local', 'Cluster'"),
    ("no upstream port", {"mailProxy": {"upstreamPorts": []}}, "at '/mailProxy/upstreamPorts': minItems: got 0, want 1"),
    ("an upstream CIDR without a prefix", {"mailProxy": {"upstreamCidrs": ["52.96.0.0"]}}, "at '/mailProxy/upstreamCidrs/0'"),
    ("a mail listener through extraEnv", {"extraEnv": {"POSTERN_MAIL_PROXY_IMAP_PORT": "143"}},
     "invalid propertyName 'POSTERN_MAIL_PROXY_IMAP_PORT'"),
    ("the mail proxy's test-only plaintext upstream through extraEnv",
     {"extraEnv": {"POSTERN_MAIL_PROXY_UPSTREAM_OVERRIDE_PLAINTEXT": "true"}},
     "invalid propertyName 'POSTERN_MAIL_PROXY_UPSTREAM_OVERRIDE_PLAINTEXT'"),
    ("the mail proxy's test-only plaintext login through extraEnv",
     {"extraEnv": {"POSTERN_MAIL_PROXY_PLAINTEXT_LOGIN_ON_LOOPBACK": "true"}},
     "invalid propertyName 'POSTERN_MAIL_PROXY_PLAINTEXT_LOGIN_ON_LOOPBACK'"),
    ("an unknown key in a managementFrom peer", {"networkPolicy": {"managementFrom": [{"namespace": "monitoring"}]}},
     "at '/networkPolicy/managementFrom/0': additional properties 'namespace' not allowed"),
]


def check_bad_values():
    refused = 0
    with tempfile.TemporaryDirectory() as tmp:
        for index, (what, values, message) in enumerate(BAD_VALUES):
            path = pathlib.Path(tmp) / f"bad-{index}.yaml"
            path.write_text(yaml.safe_dump(values))
            result = helm_template("-f", str(path))
            ok = result.returncode != 0 and SCHEMA_FAILURE in result.stderr and message in result.stderr
            check(ok, f"bad values ({what}) refused with {message!r}; exit {result.returncode}, stderr: {result.stderr.strip()}")
            refused += ok
    return refused


# Maps whose entries are data (label selectors), not chart keys: their entries need no comment.
DATA_MAPS = {"matchLabels"}


def check_values_commented():
    """STYLE 15: a comment above every key of values.yaml (a list item's `- # ...` counts)."""
    lines = (CHART / "values.yaml").read_text().splitlines()
    parents = []  # (indent, key) of the enclosing keys
    for number, line in enumerate(lines):
        match = re.match(r"^(\s*)(- )?([A-Za-z_][\w./-]*):", line)
        if not match:
            continue
        indent = len(match.group(1)) + (2 if match.group(2) else 0)
        while parents and parents[-1][0] >= indent:
            parents.pop()
        key = match.group(3)
        previous = lines[number - 1].strip() if number else ""
        if not (parents and parents[-1][1] in DATA_MAPS):
            check(previous.startswith("#") or previous.startswith("- #"),
                  f"values.yaml line {number + 1}: {key} has a comment above it")
        parents.append((indent, key))


def check_schema_strict():
    """STYLE 15: every object in values.schema.json closed to unknown keys, every key described."""
    schema = json.loads((CHART / "values.schema.json").read_text())

    def walk(node, path):
        if node.get("type") == "object" and "properties" in node:
            check(node.get("additionalProperties") is False, f"schema {path or '/'}: additionalProperties false")
            for key, child in node["properties"].items():
                check("description" in child, f"schema {path}/{key}: has a description")
                walk(child, f"{path}/{key}")
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                walk(node[key], f"{path}/{key}")
        for name, child in node.get("definitions", {}).items():
            walk(child, f"/definitions/{name}")

    walk(schema, "")


def check_shutdown():
    """The grace period outlasts the preStop sleep and both shutdown phases; the broker gets the phase timeout."""
    docs = render()
    pod = only(docs, "Deployment")["spec"]["template"]["spec"]
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())["shutdown"]
    check(pod.get("terminationGracePeriodSeconds") == defaults["terminationGracePeriodSeconds"],
          f"terminationGracePeriodSeconds is {defaults['terminationGracePeriodSeconds']}: {pod.get('terminationGracePeriodSeconds')}")
    check(pod["terminationGracePeriodSeconds"] > defaults["preStopSleepSeconds"] + 2 * defaults["phaseTimeoutSeconds"],
          "the grace period exceeds the preStop sleep plus two shutdown phases")
    check(broker(docs).get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command")
          == ["sleep", str(defaults["preStopSleepSeconds"])], f"preStop sleeps {defaults['preStopSleepSeconds']} s")
    check(env_value(docs, "SPRING_LIFECYCLE_TIMEOUT_PER_SHUTDOWN_PHASE") == f"{defaults['phaseTimeoutSeconds']}s",
          "SPRING_LIFECYCLE_TIMEOUT_PER_SHUTDOWN_PHASE carries shutdown.phaseTimeoutSeconds")
    no_sleep = render("--set", "shutdown.preStopSleepSeconds=0", "--set", "shutdown.terminationGracePeriodSeconds=61")
    check("lifecycle" not in broker(no_sleep), "preStopSleepSeconds 0 leaves the preStop hook out")
    check(only(no_sleep, "Deployment")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 61,
          "terminationGracePeriodSeconds is taken from the values")
    too_short = helm_template("--set", "shutdown.terminationGracePeriodSeconds=65")
    check(too_short.returncode != 0 and "must exceed shutdown.preStopSleepSeconds" in too_short.stderr,
          f"a grace period of 65 s with a 5 s sleep and 30 s phases is refused: {too_short.stderr.strip()}")


def main():
    check_schema_strict()
    check_values_commented()
    check_defaults()
    check_full_values()
    check_mail_proxy()
    check_other_auth_and_ca()
    check_ingress_routes_http_only()
    check_forwarded_headers()
    check_alert_rules()
    check_notes()
    check_shutdown()
    refused = check_bad_values()
    for failure in failures:
        print(f"FAIL {failure}")
    print(f"[chart] {passed} assertions passed, {refused} bad values refused"
          + (f", {len(failures)} FAILED" if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
