{{/*
postern.name: the chart name, or nameOverride; cut to 63 characters because Kubernetes
label values and DNS names stop there.
*/}}
{{- define "postern.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
postern.fullname: the name of every object. The release name alone when it already contains
the chart name, so `helm install postern` does not give postern-postern.
*/}}
{{- define "postern.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
postern.chart: chart name and version for the helm.sh/chart label; "+" is not allowed in labels.
*/}}
{{- define "postern.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
postern.selectorLabels: the labels that tie the Deployment, Service, PDB, NetworkPolicy and
ServiceMonitor to the pods. They must never change between upgrades (selectors are immutable).
*/}}
{{- define "postern.selectorLabels" -}}
app.kubernetes.io/name: {{ include "postern.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
postern.labels: the recommended app.kubernetes.io labels for every object.
*/}}
{{- define "postern.labels" -}}
helm.sh/chart: {{ include "postern.chart" . }}
{{ include "postern.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: broker
app.kubernetes.io/part-of: postern
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
postern.serviceAccountName: the account the pods run as; Vault's Kubernetes role binds to it.
*/}}
{{- define "postern.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "postern.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
postern.image: repository:tag, the tag defaulting to the chart's appVersion so chart and
broker versions move together.
*/}}
{{- define "postern.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
postern.vaultPort: Vault's port taken from vault.address, so the NetworkPolicy cannot disagree
with the address the broker uses. Without an explicit port: 443 for https, 80 for http.
*/}}
{{- define "postern.vaultPort" -}}
{{- $url := urlParse .Values.vault.address }}
{{- $port := regexFind ":[0-9]+$" $url.host | trimPrefix ":" }}
{{- if $port }}
{{- $port }}
{{- else if eq $url.scheme "https" }}
{{- 443 }}
{{- else }}
{{- 80 }}
{{- end }}
{{- end }}

{{/*
postern.caFile: where Vault's CA certificate is mounted in the pod.
*/}}
{{- define "postern.caFile" -}}
/etc/postern/vault-ca/{{ .Values.vault.ca.key }}
{{- end }}


{{/*
postern.managementServiceLabel: marks the management Service, so the ServiceMonitor selects it
and never the http Service (both carry the same selector labels).
*/}}
{{- define "postern.managementServiceLabel" -}}
postern.dev/service: management
{{- end }}

{{/*
postern.mailListeners: the mail proxy's enabled listeners as a YAML list of {name, containerPort,
servicePort, property}, in a fixed order, so the Deployment, the mail Service and the
NetworkPolicy cannot disagree. The pod listens on high ports: it has no capability to bind
below 1024. Empty when the mail proxy is off.
*/}}
{{- define "postern.mailListeners" -}}
{{- $listeners := list }}
{{- if .Values.mailProxy.enabled }}
{{- $fixed := list (dict "name" "imaps" "containerPort" 10993 "property" "IMAPS")
                   (dict "name" "imap" "containerPort" 10143 "property" "IMAP")
                   (dict "name" "smtps" "containerPort" 10465 "property" "SMTPS")
                   (dict "name" "submission" "containerPort" 10587 "property" "SUBMISSION") }}
{{- range $fixed }}
{{- $values := get $.Values.mailProxy.listeners .name }}
{{- if $values.enabled }}
{{- $listeners = append $listeners (merge (dict "servicePort" $values.port) .) }}
{{- end }}
{{- end }}
{{- end }}
{{- toYaml $listeners }}
{{- end }}

{{/*
postern.mailTlsDir: where the mail proxy's certificate and key are mounted in the pod.
*/}}
{{- define "postern.mailTlsDir" -}}
/etc/postern/mail-tls
{{- end }}
