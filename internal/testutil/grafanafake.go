package testutil

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// FakeGrafana is an httptest server that follows Grafana's documented
// HTTP API for what investiq-mon uses: /api/health, users lookup, the
// admin password endpoint, folders, datasources, search and dashboards,
// with basic auth and brute-force protection. Grafana itself cannot run
// on these machines (see STACK.md); this double is what the Grafana code
// is tested against, and the README says so.
type FakeGrafana struct {
	*httptest.Server

	mu sync.Mutex
	// Users by login: password and whether the user is a server admin.
	Users map[string]*FakeGrafanaUser
	// Folders, Datasources (by uid, as Grafana returns them) and
	// Dashboards (uid -> {"dashboard":..., "meta":...}).
	Folders     []map[string]any
	Datasources map[string]map[string]any
	Dashboards  map[string]map[string]any
	// LockAfter consecutive wrong passwords for a login, Grafana blocks
	// it (default 5 in Grafana; 3 here to keep tests short).
	LockAfter int
	// LockStatus is the status of a blocked login's answer: Grafana
	// answers 401 with the lockout message; some proxies turn it into 429.
	LockStatus int
	failures   map[string]int
	// Requests records "METHOD path" of every request.
	Requests []string
}

// FakeGrafanaUser is one Grafana user.
type FakeGrafanaUser struct {
	ID       int64
	Password string
	Admin    bool
}

// NewFakeGrafana starts the double with one server admin.
func NewFakeGrafana(t testing.TB, adminLogin, adminPassword string) *FakeGrafana {
	g := &FakeGrafana{
		Users:       map[string]*FakeGrafanaUser{adminLogin: {ID: 1, Password: adminPassword, Admin: true}},
		Datasources: map[string]map[string]any{},
		Dashboards:  map[string]map[string]any{},
		LockAfter:   3,
		LockStatus:  http.StatusUnauthorized,
		failures:    map[string]int{},
	}
	g.Server = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.Close)
	return g
}

// Password returns a user's current password (for assertions).
func (g *FakeGrafana) Password(login string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if u, ok := g.Users[login]; ok {
		return u.Password
	}
	return ""
}

// RequestLog returns the requests so far.
func (g *FakeGrafana) RequestLog() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.Requests...)
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func msg(w http.ResponseWriter, code int, m string) { reply(w, code, map[string]any{"message": m}) }

func (g *FakeGrafana) serve(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.Requests = append(g.Requests, r.Method+" "+r.URL.Path)
	if r.URL.Path == "/api/health" {
		reply(w, 200, map[string]any{"database": "ok", "version": "12.3.0", "commit": "fake"})
		return
	}
	login, pw, ok := r.BasicAuth()
	if !ok {
		msg(w, 401, "Unauthorized")
		return
	}
	if g.failures[login] >= g.LockAfter {
		msg(w, g.LockStatus, "too many consecutive incorrect login attempts for user - login for user temporarily blocked")
		return
	}
	u, known := g.Users[login]
	if !known || u.Password != pw {
		g.failures[login]++
		msg(w, 401, "Invalid username or password")
		return
	}
	g.failures[login] = 0
	path := strings.TrimPrefix(r.URL.Path, "/api")
	switch {
	case r.Method == "GET" && path == "/users/lookup":
		q := r.URL.Query().Get("loginOrEmail")
		if t, ok := g.Users[q]; ok {
			reply(w, 200, map[string]any{"id": t.ID, "login": q, "email": q + "@localhost", "isGrafanaAdmin": t.Admin})
			return
		}
		msg(w, 404, "user not found")
	case r.Method == "PUT" && strings.HasPrefix(path, "/admin/users/") && strings.HasSuffix(path, "/password"):
		if !u.Admin {
			msg(w, 403, "Permission denied")
			return
		}
		id, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(path, "/admin/users/"), "/password"), 10, 64)
		var body struct{ Password string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Password == "" {
			msg(w, 400, "bad request data")
			return
		}
		for _, t := range g.Users {
			if t.ID == id {
				t.Password = body.Password
				msg(w, 200, "User password updated")
				return
			}
		}
		msg(w, 404, "user not found")
	case r.Method == "GET" && path == "/folders":
		reply(w, 200, append([]map[string]any{}, g.Folders...))
	case r.Method == "POST" && path == "/folders":
		var f map[string]any
		json.NewDecoder(r.Body).Decode(&f)
		for _, have := range g.Folders {
			if have["uid"] == f["uid"] {
				msg(w, 409, "a folder with the same uid already exists")
				return
			}
		}
		f["id"] = len(g.Folders) + 1
		g.Folders = append(g.Folders, f)
		reply(w, 200, f)
	case r.Method == "GET" && path == "/datasources":
		var out []map[string]any
		for _, d := range g.Datasources {
			out = append(out, map[string]any{"uid": d["uid"], "name": d["name"], "type": d["type"]})
		}
		reply(w, 200, out)
	case r.Method == "GET" && strings.HasPrefix(path, "/datasources/uid/"):
		if d, ok := g.Datasources[strings.TrimPrefix(path, "/datasources/uid/")]; ok {
			reply(w, 200, d)
			return
		}
		msg(w, 404, "Data source not found")
	case r.Method == "POST" && path == "/datasources":
		var d map[string]any
		json.NewDecoder(r.Body).Decode(&d)
		uid, _ := d["uid"].(string)
		if _, ok := g.Datasources[uid]; ok {
			msg(w, 409, "data source with the same name already exists")
			return
		}
		// Grafana stores secureJsonData encrypted and never returns it.
		if sj, ok := d["secureJsonData"].(map[string]any); ok {
			fields := map[string]bool{}
			for k := range sj {
				fields[k] = true
			}
			d["secureJsonFields"] = fields
			delete(d, "secureJsonData")
		}
		d["id"] = len(g.Datasources) + 1
		g.Datasources[uid] = d
		reply(w, 200, map[string]any{"message": "Datasource added", "id": d["id"], "datasource": d})
	case r.Method == "GET" && path == "/search":
		var out []map[string]any
		for uid, d := range g.Dashboards {
			dash := d["dashboard"].(map[string]any)
			out = append(out, map[string]any{"uid": uid, "title": dash["title"], "type": "dash-db"})
		}
		reply(w, 200, out)
	case r.Method == "GET" && strings.HasPrefix(path, "/dashboards/uid/"):
		if d, ok := g.Dashboards[strings.TrimPrefix(path, "/dashboards/uid/")]; ok {
			reply(w, 200, d)
			return
		}
		msg(w, 404, "Dashboard not found")
	case r.Method == "POST" && path == "/dashboards/db":
		var cmd struct {
			Dashboard map[string]any `json:"dashboard"`
			FolderUID string         `json:"folderUid"`
			Overwrite bool           `json:"overwrite"`
		}
		json.NewDecoder(r.Body).Decode(&cmd)
		uid, _ := cmd.Dashboard["uid"].(string)
		if old, ok := g.Dashboards[uid]; ok {
			if m, _ := old["meta"].(map[string]any); m["provisioned"] == true {
				msg(w, 400, "Cannot save provisioned dashboard")
				return
			}
			if !cmd.Overwrite {
				msg(w, 412, "A dashboard with the same uid already exists")
				return
			}
		}
		if cmd.Dashboard["id"] != nil {
			msg(w, 400, fmt.Sprintf("dashboard id %v given for a new dashboard", cmd.Dashboard["id"]))
			return
		}
		g.Dashboards[uid] = map[string]any{"dashboard": cmd.Dashboard, "meta": map[string]any{"folderUid": cmd.FolderUID}}
		reply(w, 200, map[string]any{"status": "success", "uid": uid, "version": 1})
	default:
		msg(w, 404, "Not found")
	}
}
