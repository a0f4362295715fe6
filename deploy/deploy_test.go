// Package deploy holds the deployment files (compose, systemd, Kubernetes)
// and, here, the checks that they parse and say what the README promises:
// Docker and a cluster are not available to CI, so these tests are what
// proves the files between releases.
package deploy

import (
	"bufio"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// docs decodes every YAML document of path.
func docs(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	dec := yaml.NewDecoder(f)
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if d != nil {
			out = append(out, d)
		}
	}
}

// at walks a decoded document by map keys and list indexes.
func at(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %v: %T is not a map", path, v)
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("at %v: no item %d", path, k)
			}
			v = l[k]
		}
	}
	return v
}

func byKind(t *testing.T, all []map[string]any, kind string) map[string]any {
	t.Helper()
	for _, d := range all {
		if d["kind"] == kind {
			return d
		}
	}
	t.Fatalf("no %s", kind)
	return nil
}

func TestKubernetesDeploymentOfThreeReplicasWithProbesSecretsAndBudget(t *testing.T) {
	all := docs(t, "k8s/xunji.yaml")
	dep := byKind(t, all, "Deployment")
	if got := at(t, dep, "spec", "replicas"); got != 3 {
		t.Errorf("replicas: %v, want 3", got)
	}
	pod := at(t, dep, "spec", "template", "spec")
	if at(t, pod, "securityContext", "runAsNonRoot") != true {
		t.Error("pod: runAsNonRoot is not true")
	}
	if uid, _ := at(t, pod, "securityContext", "runAsUser").(int); uid == 0 {
		t.Error("pod: runs as uid 0")
	}
	c := at(t, pod, "containers", 0)
	if at(t, c, "securityContext", "allowPrivilegeEscalation") != false || at(t, c, "securityContext", "readOnlyRootFilesystem") != true {
		t.Error("container: privilege escalation allowed or root filesystem writable")
	}
	ports := map[string]int{}
	for _, p := range at(t, c, "ports").([]any) {
		ports[at(t, p, "name").(string)] = at(t, p, "containerPort").(int)
	}
	if ports["admin"] != 9090 || ports["webhook"] != 8080 {
		t.Errorf("ports %v, want admin 9090 and webhook 8080", ports)
	}
	for probe, path := range map[string]string{"livenessProbe": "/livez", "readinessProbe": "/readyz"} {
		if got := at(t, c, probe, "httpGet", "path"); got != path {
			t.Errorf("%s path %v, want %s", probe, got, path)
		}
		if got := at(t, c, probe, "httpGet", "port"); got != "admin" && got != 9090 {
			t.Errorf("%s port %v, want the admin port", probe, got)
		}
	}
	env := map[string]map[string]any{}
	for _, e := range at(t, c, "env").([]any) {
		env[at(t, e, "name").(string)] = e.(map[string]any)
	}
	if got := env["XUNJI_ADMIN_ADDR"]["value"]; got != "0.0.0.0:9090" {
		t.Errorf("XUNJI_ADMIN_ADDR %v, want 0.0.0.0:9090", got)
	}
	for _, name := range []string{"REDIS_URL", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "LARK_APP_ID", "LARK_APP_SECRET", "LARK_VERIFICATION_TOKEN", "LARK_ENCRYPT_KEY"} {
		e, ok := env[name]
		if !ok {
			t.Errorf("env %s missing", name)
			continue
		}
		if _, plain := e["value"]; plain {
			t.Errorf("env %s has a plain value; secrets come from the Secret", name)
		}
		if at(t, e, "valueFrom", "secretKeyRef", "name") != "xunji-secrets" {
			t.Errorf("env %s is not read from the Secret xunji-secrets", name)
		}
	}
	cfg := at(t, byKind(t, all, "ConfigMap"), "data", "xunji.yaml").(string)
	var parsed map[string]any
	if err := yaml.Unmarshal([]byte(cfg), &parsed); err != nil {
		t.Fatalf("ConfigMap xunji.yaml: %v", err)
	}
	if got := at(t, parsed, "store", "kind"); got != "redis" {
		t.Errorf("replicas need the Redis store; ConfigMap says %v", got)
	}

	pdb := byKind(t, all, "PodDisruptionBudget")
	if got := at(t, pdb, "spec", "minAvailable"); got != 2 {
		t.Errorf("PodDisruptionBudget minAvailable %v, want 2 of 3", got)
	}
	labels := at(t, dep, "spec", "selector", "matchLabels").(map[string]any)
	for k, v := range at(t, pdb, "spec", "selector", "matchLabels").(map[string]any) {
		if labels[k] != v {
			t.Errorf("PodDisruptionBudget selects %s=%v, which the Deployment's pods do not carry", k, v)
		}
	}
	svc := byKind(t, all, "Service")
	sp := at(t, svc, "spec", "ports").([]any)
	if len(sp) != 1 || at(t, sp[0], "targetPort") != "webhook" {
		t.Errorf("Service ports %v, want the webhook port only", sp)
	}
}

func TestComposeRunsXunjiWithRedisOnAOF(t *testing.T) {
	c := docs(t, "compose.yaml")[0]
	redis := at(t, c, "services", "redis")
	cmd := strings.Join(toStrings(at(t, redis, "command")), " ")
	if !strings.Contains(cmd, "--appendonly yes") {
		t.Errorf("redis command %q: AOF is not on", cmd)
	}
	x := at(t, c, "services", "xunji")
	env := at(t, x, "environment").(map[string]any)
	for _, name := range []string{"XUNJI_CONFIG", "REDIS_URL", "XUNJI_HTTP_ADDR", "XUNJI_ADMIN_ADDR", "XUNJI_LOG_LEVEL"} {
		if _, ok := env[name]; !ok {
			t.Errorf("compose: xunji environment lacks %s", name)
		}
	}
	if got := toStrings(at(t, x, "env_file")); len(got) != 1 || got[0] != "xunji.env" {
		t.Errorf("compose: secrets file %v, want xunji.env", got)
	}
	// Every secret variable is documented in the compose file and listed
	// in the env file's example.
	raw, _ := os.ReadFile("compose.yaml")
	example, _ := os.ReadFile("xunji.env.example")
	for _, name := range []string{"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_TEAM_ID", "LARK_APP_ID", "LARK_APP_SECRET", "LARK_VERIFICATION_TOKEN", "LARK_ENCRYPT_KEY", "LARK_MODE", "LARK_TENANT_KEY"} {
		if !strings.Contains(string(raw), name) || !strings.Contains(string(example), name) {
			t.Errorf("%s is not documented in compose.yaml and xunji.env.example", name)
		}
	}
	deps := at(t, x, "depends_on", "redis", "condition")
	if deps != "service_healthy" {
		t.Errorf("xunji starts before Redis is healthy (%v)", deps)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestSystemdUnitIsHardened(t *testing.T) {
	f, err := os.Open("systemd/xunji.service")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys := map[string][]string{}
	sc := bufio.NewScanner(f)
	section := ""
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasPrefix(line, "[") {
			section = strings.Trim(line, "[]")
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("not a key=value line in [%s]: %q", section, line)
		}
		keys[section+"."+k] = append(keys[section+"."+k], v)
	}
	for key, want := range map[string]string{
		"Service.NoNewPrivileges": "yes",
		"Service.ProtectSystem":   "strict",
		"Service.StateDirectory":  "xunji",
		"Service.Restart":         "on-failure",
		"Service.DynamicUser":     "yes",
		"Service.EnvironmentFile": "/etc/xunji/xunji.env",
		"Service.ProtectHome":     "yes",
		"Service.PrivateTmp":      "yes",
		"Install.WantedBy":        "multi-user.target",
	} {
		if got := keys[key]; len(got) != 1 || got[0] != want {
			t.Errorf("%s = %v, want %s", key, got, want)
		}
	}
	env := strings.Join(keys["Service.Environment"], "\n")
	if !strings.Contains(env, "XUNJI_STORE_PATH=/var/lib/xunji/") {
		t.Errorf("the bolt file is not in the StateDirectory: %s", env)
	}
	if v := keys["Service.CapabilityBoundingSet"]; len(v) != 1 || v[0] != "" {
		t.Errorf("CapabilityBoundingSet %v, want empty (no capabilities)", v)
	}
	for _, k := range []string{"SLACK_", "LARK_", "REDIS_URL"} {
		if strings.Contains(env, k) {
			t.Errorf("secret %s in Environment=; it belongs in the EnvironmentFile", k)
		}
	}
}

func TestDockerfileBuildsWithTheScriptIntoANonRootStaticImage(t *testing.T) {
	raw, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	var froms []string
	user := ""
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "FROM" {
			froms = append(froms, f[1])
		}
		if len(f) >= 2 && f[0] == "USER" {
			user = f[1]
		}
	}
	if len(froms) < 2 {
		t.Fatalf("FROM lines %v, want a multi-stage build", froms)
	}
	if !strings.HasPrefix(froms[len(froms)-1], "gcr.io/distroless/static") {
		t.Errorf("final image %s, want distroless/static (CA certificates and tzdata, nothing else)", froms[len(froms)-1])
	}
	if user == "" || strings.HasPrefix(user, "0") || strings.HasPrefix(user, "root") {
		t.Errorf("USER %q, want a non-root uid", user)
	}
	if !strings.Contains(s, "scripts/build.sh") {
		t.Error("the Dockerfile does not build with scripts/build.sh")
	}
	ci, err := os.ReadFile("../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ci), "scripts/build.sh") {
		t.Error(".ci/run does not run scripts/build.sh")
	}
	if !strings.Contains(string(ci), "go vet ./... && go test -race -count=1 ./...") {
		t.Error(".ci/run lost the README's test command")
	}
}
