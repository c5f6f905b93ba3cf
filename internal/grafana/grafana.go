// Package grafana is investiq-mon's narrow view of Grafana's HTTP API,
// built on the generated grafana-openapi-client-go: export and re-import
// of dashboards, folders and datasources for backup and restore, and the
// admin password reset. Grafana cannot run on the machines the tests run
// on, so everything here is tested against an httptest double that follows
// Grafana's documented API; see docs/readme/backup.md.
package grafana

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-openapi/runtime"
	httptransport "github.com/go-openapi/runtime/client"
	"github.com/go-openapi/strfmt"
	"github.com/grafana/grafana-openapi-client-go/client/admin_users"
	"github.com/grafana/grafana-openapi-client-go/client/dashboards"
	"github.com/grafana/grafana-openapi-client-go/client/datasources"
	"github.com/grafana/grafana-openapi-client-go/client/folders"
	"github.com/grafana/grafana-openapi-client-go/client/health"
	"github.com/grafana/grafana-openapi-client-go/client/search"
	"github.com/grafana/grafana-openapi-client-go/client/users"
	"github.com/grafana/grafana-openapi-client-go/models"
)

// Errors callers branch on. Messages never hold a credential.
var (
	// ErrUnauthorized: Grafana refused the credentials (HTTP 401).
	ErrUnauthorized = errors.New("grafana refused the credentials (401)")
	// ErrLockedOut: Grafana's brute-force protection blocks the user after
	// too many wrong passwords; trying again only extends the block.
	ErrLockedOut = errors.New("grafana has temporarily blocked the login after too many consecutive incorrect login attempts")
	// ErrForbidden: the user is not a server admin (HTTP 403).
	ErrForbidden = errors.New("grafana refused the request: the user is not a Grafana server admin (403)")
	// ErrUnreachable: nothing answers at the URL.
	ErrUnreachable = errors.New("grafana is not reachable")
	// ErrNotFound: no such user, dashboard or datasource (HTTP 404).
	ErrNotFound = errors.New("not found in grafana (404)")
)

// RequestTimeout bounds each request to Grafana; it is the stack's
// per-request timeout (stack.RequestTimeout, which this package does not
// import; a test keeps them equal).
const RequestTimeout = 10 * time.Second

// Client talks to one Grafana as one user.
type Client struct {
	api *services
	url string
}

// services are the parts of Grafana's API investiq-mon calls, each built
// on its own: the generated aggregate client (client.New) would link all
// of the API's ~40 services into the binary, for a longer cold build and
// start-up.
type services struct {
	AdminUsers  admin_users.ClientService
	Dashboards  dashboards.ClientService
	Datasources datasources.ClientService
	Folders     folders.ClientService
	Health      health.ClientService
	Search      search.ClientService
	Users       users.ClientService
}

// New returns a client for the Grafana at baseURL (http://host:port) with
// basic auth. It builds its own go-openapi transport instead of calling
// the client package's NewHTTPClientWithConfig, because that one mutates
// http.DefaultTransport (its TLS config) on every call: a data race for a
// process that also talks to Prometheus.
func New(baseURL, user, password string) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("grafana URL %q: want http(s)://host:port", baseURL)
	}
	base := strings.TrimSuffix(u.Path, "/") + "/api"
	rt := httptransport.NewWithClient(u.Host, base, []string{u.Scheme}, &http.Client{Timeout: RequestTimeout})
	rt.DefaultAuthentication = httptransport.BasicAuth(user, password)
	// Dashboards are arbitrary JSON; decode numbers as float64 like
	// encoding/json, not as json.Number, so they round-trip unchanged.
	rt.Consumers[runtime.JSONMime] = runtime.ConsumerFunc(func(r io.Reader, v any) error {
		return json.NewDecoder(r).Decode(v)
	})
	f := strfmt.Default
	api := &services{
		AdminUsers:  admin_users.New(rt, f),
		Dashboards:  dashboards.New(rt, f),
		Datasources: datasources.New(rt, f),
		Folders:     folders.New(rt, f),
		Health:      health.New(rt, f),
		Search:      search.New(rt, f),
		Users:       users.New(rt, f),
	}
	return &Client{api: api, url: baseURL}, nil
}

// URL is the base URL the client talks to.
func (c *Client) URL() string { return c.url }

// Health returns Grafana's version; it needs no credentials.
func (c *Client) Health(ctx context.Context) (string, error) {
	res, err := c.api.Health.GetHealth(withCtx(ctx))
	if err != nil {
		return "", c.wrap("GET /api/health", err)
	}
	if res.Payload == nil {
		return "", nil
	}
	return res.Payload.Version, nil
}

// SetPassword sets the password of the user with the given login or email
// through the admin API: GET /api/users/lookup, then
// PUT /api/admin/users/:id/password. The client's user must be a Grafana
// server admin.
func (c *Client) SetPassword(ctx context.Context, login, password string) error {
	u, err := c.api.Users.GetUserByLoginOrEmail(login, withCtx(ctx))
	if err != nil {
		return c.wrap("GET /api/users/lookup?loginOrEmail="+login, err)
	}
	if u.Payload == nil || u.Payload.ID == 0 {
		return fmt.Errorf("GET /api/users/lookup?loginOrEmail=%s: no user id in the answer", login)
	}
	_, err = c.api.AdminUsers.AdminUpdateUserPassword(u.Payload.ID, &models.AdminUpdateUserPasswordForm{Password: models.Password(password)}, withCtx(ctx))
	if err != nil {
		return c.wrap(fmt.Sprintf("PUT /api/admin/users/%d/password", u.Payload.ID), err)
	}
	return nil
}

// Export is what backup saves through the API.
type Export struct {
	Folders     []*models.FolderSearchHit       `json:"folders"`
	Datasources []*models.DataSource            `json:"datasources"`
	Dashboards  []*models.DashboardFullWithMeta `json:"-"` // saved one file per dashboard
}

// Export reads every folder, datasource and dashboard. Datasources come
// from /api/datasources/uid/:uid, whose answer never holds secure fields
// (only secureJsonFields flags), so nothing secret is exported.
func (c *Client) Export(ctx context.Context) (*Export, error) {
	var out Export
	for page := int64(1); ; page++ {
		limit := int64(1000)
		res, err := c.api.Folders.GetFolders(foldersParams(ctx, &limit, &page))
		if err != nil {
			return nil, c.wrap("GET /api/folders", err)
		}
		out.Folders = append(out.Folders, res.Payload...)
		if int64(len(res.Payload)) < limit {
			break
		}
	}
	ds, err := c.api.Datasources.GetDataSources(withCtx(ctx))
	if err != nil {
		return nil, c.wrap("GET /api/datasources", err)
	}
	for _, d := range ds.Payload {
		full, err := c.api.Datasources.GetDataSourceByUID(d.UID, withCtx(ctx))
		if err != nil {
			return nil, c.wrap("GET /api/datasources/uid/"+d.UID, err)
		}
		out.Datasources = append(out.Datasources, full.Payload)
	}
	for page := int64(1); ; page++ {
		typ, limit := "dash-db", int64(1000)
		p := search.NewSearchParamsWithContext(ctx)
		p.Type, p.Limit, p.Page = &typ, &limit, &page
		res, err := c.api.Search.Search(p)
		if err != nil {
			return nil, c.wrap("GET /api/search?type=dash-db", err)
		}
		for _, h := range res.Payload {
			d, err := c.api.Dashboards.GetDashboardByUID(h.UID, withCtx(ctx))
			if err != nil {
				return nil, c.wrap("GET /api/dashboards/uid/"+h.UID, err)
			}
			out.Dashboards = append(out.Dashboards, d.Payload)
		}
		if int64(len(res.Payload)) < limit {
			break
		}
	}
	return &out, nil
}

// ImportResult says what Import did, by uid.
type ImportResult struct {
	Folders, Datasources, Dashboards []string // created or updated
	Skipped                          []string // "dashboard x: provisioned from file"
}

// Import re-creates what Export saved. Folders and datasources that exist
// (by uid) are left alone: a provisioned datasource is owned by its file
// and a live one may have secrets the export never had. Dashboards are
// written with overwrite, except provisioned ones, which Grafana re-reads
// from the generated files and refuses to save through the API.
func (c *Client) Import(ctx context.Context, e *Export) (*ImportResult, error) {
	var res ImportResult
	existing, err := c.api.Folders.GetFolders(foldersParams(ctx, nil, nil))
	if err != nil {
		return nil, c.wrap("GET /api/folders", err)
	}
	have := map[string]bool{}
	for _, f := range existing.Payload {
		have[f.UID] = true
	}
	for _, f := range e.Folders {
		if have[f.UID] {
			continue
		}
		if _, err := c.api.Folders.CreateFolder(&models.CreateFolderCommand{UID: f.UID, Title: f.Title, ParentUID: f.ParentUID}, withCtx(ctx)); err != nil {
			return &res, c.wrap("POST /api/folders ("+f.UID+")", err)
		}
		res.Folders = append(res.Folders, f.UID)
	}
	for _, d := range e.Datasources {
		_, err := c.api.Datasources.GetDataSourceByUID(d.UID, withCtx(ctx))
		if err == nil {
			res.Skipped = append(res.Skipped, "datasource "+d.UID+": exists")
			continue
		}
		if !errors.Is(c.wrap("", err), ErrNotFound) {
			return &res, c.wrap("GET /api/datasources/uid/"+d.UID, err)
		}
		cmd := &models.AddDataSourceCommand{
			Access: d.Access, BasicAuth: d.BasicAuth, BasicAuthUser: d.BasicAuthUser, Database: d.Database,
			IsDefault: d.IsDefault, JSONData: d.JSONData, Name: d.Name, Type: d.Type, UID: d.UID, URL: d.URL,
			User: d.User, WithCredentials: d.WithCredentials,
		}
		if _, err := c.api.Datasources.AddDataSource(cmd, withCtx(ctx)); err != nil {
			return &res, c.wrap("POST /api/datasources ("+d.UID+")", err)
		}
		res.Datasources = append(res.Datasources, d.UID)
		if len(d.SecureJSONFields) > 0 {
			res.Skipped = append(res.Skipped, "datasource "+d.UID+": secure fields (passwords, tokens) are not in backups; set them again in Grafana")
		}
	}
	for _, d := range e.Dashboards {
		uid := dashboardUID(d)
		if d.Meta != nil && d.Meta.Provisioned {
			res.Skipped = append(res.Skipped, "dashboard "+uid+": provisioned from a file")
			continue
		}
		dash, ok := d.Dashboard.(map[string]any)
		if !ok {
			return &res, fmt.Errorf("dashboard %s: not a JSON object", uid)
		}
		dash = maps(dash)
		dash["id"] = nil // a new id in this Grafana; the uid is what links
		cmd := &models.SaveDashboardCommand{Dashboard: dash, Overwrite: true, Message: "restored by investiq-mon"}
		if d.Meta != nil {
			cmd.FolderUID = d.Meta.FolderUID
		}
		if _, err := c.api.Dashboards.PostDashboard(cmd, withCtx(ctx)); err != nil {
			return &res, c.wrap("POST /api/dashboards/db ("+uid+")", err)
		}
		res.Dashboards = append(res.Dashboards, uid)
	}
	return &res, nil
}

func dashboardUID(d *models.DashboardFullWithMeta) string {
	if m, ok := d.Dashboard.(map[string]any); ok {
		if uid, ok := m["uid"].(string); ok {
			return uid
		}
	}
	return "(no uid)"
}

// maps copies the top level so Import does not change its argument.
func maps(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func foldersParams(ctx context.Context, limit, page *int64) *folders.GetFoldersParams {
	fp := folders.NewGetFoldersParamsWithContext(ctx)
	fp.Limit, fp.Page = limit, page
	return fp
}

// withCtx makes a generated call honour ctx: the generated methods without
// Params use context.Background otherwise.
func withCtx(ctx context.Context) func(*runtime.ClientOperation) {
	//lint:ignore SA1019 the generated grafana-openapi-client-go methods take no context argument; this option is how they get one
	return func(op *runtime.ClientOperation) { op.Context = ctx }
}

// wrap turns the generated client's errors into the sentinels above, with
// the request named, so the CLI can say what to do.
func (c *Client) wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	prefix := what
	if prefix != "" {
		prefix += ": "
	}
	if code := statusCode(err); code != 0 {
		msg := payloadMessage(err)
		switch {
		case code == http.StatusTooManyRequests || strings.Contains(strings.ToLower(msg), "too many consecutive incorrect login attempts"):
			return fmt.Errorf("%s%w", prefix, ErrLockedOut)
		case code == http.StatusUnauthorized:
			return fmt.Errorf("%s%w", prefix, ErrUnauthorized)
		case code == http.StatusForbidden:
			return fmt.Errorf("%s%w", prefix, ErrForbidden)
		case code == http.StatusNotFound:
			return fmt.Errorf("%s%w", prefix, ErrNotFound)
		default:
			if msg != "" {
				return fmt.Errorf("%sgrafana answered %d: %s", prefix, code, msg)
			}
			return fmt.Errorf("%sgrafana answered %d", prefix, code)
		}
	}
	var ne net.Error
	var oe *net.OpError
	if (errors.As(err, &ne) && ne.Timeout()) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s%w at %s: did not answer within %s (it accepts connections but sends nothing back: stopped, overloaded or hung?)", prefix, ErrUnreachable, c.url, RequestTimeout)
	}
	if errors.As(err, &oe) {
		return fmt.Errorf("%s%w at %s: %v", prefix, ErrUnreachable, c.url, err)
	}
	return fmt.Errorf("%s%w", prefix, err)
}

// statusCode is the HTTP status of a generated client error: documented
// answers are typed errors with a Code method, undocumented ones (429)
// a *runtime.APIError with a Code field.
func statusCode(err error) int {
	var coder interface{ Code() int }
	if errors.As(err, &coder) {
		return coder.Code()
	}
	var ae *runtime.APIError
	if errors.As(err, &ae) {
		return ae.Code
	}
	return 0
}

// payloadMessage digs Grafana's {"message": ...} out of a generated error.
func payloadMessage(err error) string {
	var p interface {
		GetPayload() *models.ErrorResponseBody
	}
	if errors.As(err, &p) {
		if b := p.GetPayload(); b != nil && b.Message != nil {
			return *b.Message
		}
	}
	return ""
}
