package main

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// The property kinds a Check validates, per resource type; the names follow the 1.2.1 schema.
type kind int

const (
	kString kind = iota
	kBool
	kNumber
	kStringMap
	kStringList
	kAnyList
	kLogging
	kConnection
)

var inputKinds = map[string]map[string]kind{
	localType: {
		"create": kString, "update": kString, "delete": kString, "triggers": kAnyList,
		"environment": kStringMap, "interpreter": kStringList, "dir": kString, "stdin": kString,
		"logging": kLogging, "assetPaths": kStringList, "archivePaths": kStringList,
		"addPreviousOutputInEnv": kBool,
	},
	remoteType: {
		"create": kString, "update": kString, "delete": kString, "triggers": kAnyList,
		"environment": kStringMap, "stdin": kString, "logging": kLogging,
		"connection": kConnection, "addPreviousOutputInEnv": kBool,
	},
}

var connectionKinds = map[string]kind{
	"host": kString, "port": kNumber, "user": kString, "password": kString,
	"privateKey": kString, "privateKeyPassword": kString, "agentSocketPath": kString, "hostKey": kString,
	"dialErrorLimit": kNumber, "perDialTimeout": kNumber, "proxy": kConnection,
}

var loggingValues = []string{"stdout", "stderr", "stdoutAndStderr", "none"}

// plain strips secret markers, deeply, so a value can be read; secretness lives on in the
// property map the outputs are copied from.
func plain(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsSecret():
		return plain(v.SecretValue().Element)
	case v.IsArray():
		out := make([]resource.PropertyValue, len(v.ArrayValue()))
		for i, e := range v.ArrayValue() {
			out[i] = plain(e)
		}
		return resource.NewArrayProperty(out)
	case v.IsObject():
		out := resource.PropertyMap{}
		for k, e := range v.ObjectValue() {
			out[k] = plain(e)
		}
		return resource.NewObjectProperty(out)
	}
	return v
}

func check(typ string, m resource.PropertyMap) []*pulumirpc.CheckFailure {
	var fails []*pulumirpc.CheckFailure
	fail := func(prop, format string, a ...any) {
		fails = append(fails, &pulumirpc.CheckFailure{Property: prop, Reason: fmt.Sprintf(format, a...)})
	}
	if typ == remoteType {
		if v, ok := m["connection"]; !ok || v.IsNull() {
			fail("connection", "missing required property 'connection'")
		}
	}
	for name, k := range inputKinds[typ] {
		v, ok := m[resource.PropertyKey(name)]
		if !ok || v.IsNull() {
			continue
		}
		checkValue(name, k, plain(v), fail)
	}
	sort.Slice(fails, func(i, j int) bool { return fails[i].Property < fails[j].Property })
	return fails
}

func checkValue(name string, k kind, v resource.PropertyValue, fail func(string, string, ...any)) {
	if v.ContainsUnknowns() {
		return // checked again once known
	}
	switch k {
	case kString:
		if !v.IsString() {
			fail(name, "%s: expected a string, got %s", name, v.TypeString())
		}
	case kBool:
		if !v.IsBool() {
			fail(name, "%s: expected a boolean, got %s", name, v.TypeString())
		}
	case kNumber:
		if !v.IsNumber() {
			fail(name, "%s: expected a number, got %s", name, v.TypeString())
		}
	case kStringMap:
		if !v.IsObject() {
			fail(name, "%s: expected a map of strings, got %s", name, v.TypeString())
			return
		}
		for key, e := range v.ObjectValue() {
			if !e.IsString() && !e.IsNull() {
				fail(name+"."+string(key), "%s.%s: expected a string, got %s", name, key, e.TypeString())
			}
		}
	case kStringList, kAnyList:
		if !v.IsArray() {
			fail(name, "%s: expected a list, got %s", name, v.TypeString())
			return
		}
		for i, e := range v.ArrayValue() {
			if k == kStringList && !e.IsString() {
				fail(fmt.Sprintf("%s[%d]", name, i), "%s[%d]: expected a string, got %s", name, i, e.TypeString())
			}
		}
	case kLogging:
		if !v.IsString() || !contains(loggingValues, v.StringValue()) {
			fail(name, "%s: expected one of %s, got %v", name, strings.Join(loggingValues, ", "), v)
		}
	case kConnection:
		if !v.IsObject() {
			fail(name, "%s: expected an object, got %s", name, v.TypeString())
			return
		}
		c := v.ObjectValue()
		if h, ok := c["host"]; !ok || h.IsNull() {
			fail(name+".host", "%s: missing required property 'host'", name)
		}
		for key, e := range c {
			path := name + "." + string(key)
			ck, known := connectionKinds[string(key)]
			switch {
			case e.IsNull():
			case !known || (name != "connection" && key == "proxy"): // a proxy has no proxy
				fail(path, "%s: unknown property", path)
			default:
				checkValue(path, ck, e, fail)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// applyDefaults fills what upstream's Check fills, so state and diffs read the same whichever
// SDK sent the inputs: the connection's (and proxy's) user, port, dialErrorLimit and
// perDialTimeout (its SetDefault annotations, connection.go and proxyConnection.go), and nothing
// else (addPreviousOutputInEnv stays absent: upstream reads absent as true). The connection is
// marked secret even when the program did not send it so (its provider:"secret" tag, which
// infer's Check applies, apply_secrets.go).
func applyDefaults(typ string, m resource.PropertyMap) {
	if typ == remoteType {
		if v, ok := m["connection"]; ok && !v.IsNull() {
			c := connectionDefaults(v, true)
			if !c.IsSecret() {
				c = resource.MakeSecret(c)
			}
			m["connection"] = c
		}
	}
}

func connectionDefaults(v resource.PropertyValue, top bool) resource.PropertyValue {
	if v.IsSecret() {
		return resource.MakeSecret(connectionDefaults(v.SecretValue().Element, top))
	}
	if !v.IsObject() {
		return v // unknown or malformed: left to Check's failures
	}
	c := v.ObjectValue().Copy()
	set := func(k string, d resource.PropertyValue) {
		if e, ok := c[resource.PropertyKey(k)]; !ok || e.IsNull() {
			c[resource.PropertyKey(k)] = d
		}
	}
	set("user", resource.NewStringProperty("root"))
	set("port", resource.NewNumberProperty(22))
	set("dialErrorLimit", resource.NewNumberProperty(10))
	set("perDialTimeout", resource.NewNumberProperty(15))
	if px, ok := c["proxy"]; ok && top && !px.IsNull() {
		c["proxy"] = connectionDefaults(px, false)
	}
	return resource.NewObjectProperty(c)
}

// diff compares old and new inputs. Every change is an update in place, except triggers,
// which replace (the engine then creates the new command before deleting the old one).
func diff(typ string, olds, news resource.PropertyMap, ignoreChanges []string) *pulumirpc.DiffResponse {
	// Only inputs count (old outputs also hold stdout and stderr). Filtered here rather than with
	// Diff's ignore function, which would apply to nested keys (environment.FOO) as well.
	only := func(m resource.PropertyMap) resource.PropertyMap {
		out := resource.PropertyMap{}
		for k, v := range m {
			if _, input := inputKinds[typ][string(k)]; input && !contains(ignoreChanges, string(k)) {
				out[k] = v
			}
		}
		return out
	}
	od := only(olds).Diff(only(news))
	if od == nil || !od.AnyChanges() {
		return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}
	}
	resp := &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_SOME, DetailedDiff: map[string]*pulumirpc.PropertyDiff{}}
	for _, k := range od.ChangedKeys() {
		resp.Diffs = append(resp.Diffs, string(k))
		if k == "triggers" {
			resp.Replaces = append(resp.Replaces, string(k))
		}
	}
	for path, d := range plugin.NewDetailedDiffFromObjectDiff(od, true) {
		kd := d.Kind
		if path == "triggers" || strings.HasPrefix(path, "triggers[") {
			kd = kd.AsReplace()
		}
		resp.DetailedDiff[path] = &pulumirpc.PropertyDiff{Kind: rpcDiffKind[kd], InputDiff: true}
	}
	return resp
}

var rpcDiffKind = map[plugin.DiffKind]pulumirpc.PropertyDiff_Kind{
	plugin.DiffAdd: pulumirpc.PropertyDiff_ADD, plugin.DiffAddReplace: pulumirpc.PropertyDiff_ADD_REPLACE,
	plugin.DiffDelete: pulumirpc.PropertyDiff_DELETE, plugin.DiffDeleteReplace: pulumirpc.PropertyDiff_DELETE_REPLACE,
	plugin.DiffUpdate: pulumirpc.PropertyDiff_UPDATE, plugin.DiffUpdateReplace: pulumirpc.PropertyDiff_UPDATE_REPLACE,
}

// spec is what running a command needs, read from inputs (or the last outputs, for delete).
type spec struct {
	Create, Update, Delete *string
	Env                    map[string]string
	Interpreter            []string
	Dir, Stdin             *string
	Logging                string
	AddPrev                bool
	AssetPaths             []string
	ArchivePaths           []string
	HasAssets, HasArchive  bool
	Conn                   *connection
}

type connection struct {
	Host, User                               string
	Port                                     int
	Password, PrivateKey, PrivateKeyPassword *string
	AgentSocketPath, HostKey                 *string
	DialErrorLimit, PerDialTimeout           int
	Proxy                                    *connection
}

func parseSpec(typ string, m resource.PropertyMap) (*spec, error) {
	var err error
	g := getter{m: m, err: &err}
	s := &spec{
		Create: g.str("create"), Update: g.str("update"), Delete: g.str("delete"),
		Env: g.strMap("environment"), Interpreter: g.strList("interpreter"),
		Dir: g.str("dir"), Stdin: g.str("stdin"), AddPrev: true,
	}
	if l := g.str("logging"); l != nil {
		s.Logging = *l
	}
	if b := g.boolean("addPreviousOutputInEnv"); b != nil {
		s.AddPrev = *b
	}
	if typ == localType {
		s.AssetPaths, s.HasAssets = g.strList("assetPaths"), g.has("assetPaths")
		s.ArchivePaths, s.HasArchive = g.strList("archivePaths"), g.has("archivePaths")
	} else {
		c, ok := m["connection"]
		if !ok || c.IsNull() {
			return nil, fmt.Errorf("missing required property 'connection'")
		}
		if s.Conn, err = parseConnection("connection", plain(c)); err != nil {
			return nil, err
		}
	}
	return s, err
}

func parseConnection(name string, v resource.PropertyValue) (*connection, error) {
	if !v.IsObject() {
		return nil, fmt.Errorf("%s: expected an object, got %s", name, v.TypeString())
	}
	var err error
	g := getter{m: v.ObjectValue(), err: &err, prefix: name + "."}
	c := &connection{
		User: "root", Port: 22, DialErrorLimit: 10, PerDialTimeout: 15,
		Password: g.str("password"), PrivateKey: g.str("privateKey"), PrivateKeyPassword: g.str("privateKeyPassword"),
		AgentSocketPath: g.str("agentSocketPath"), HostKey: g.str("hostKey"),
	}
	if h := g.str("host"); h != nil {
		c.Host = *h
	} else if err == nil {
		return nil, fmt.Errorf("%s: missing required property 'host'", name)
	}
	if u := g.str("user"); u != nil {
		c.User = *u
	}
	for k, dst := range map[string]*int{"port": &c.Port, "dialErrorLimit": &c.DialErrorLimit, "perDialTimeout": &c.PerDialTimeout} {
		if n := g.num(k); n != nil {
			*dst = int(math.Round(*n))
		}
	}
	if px, ok := v.ObjectValue()["proxy"]; ok && !px.IsNull() && err == nil {
		if c.Proxy, err = parseConnection(name+".proxy", px); err != nil {
			return nil, err
		}
	}
	return c, err
}

// getter reads optional properties, keeping the first type error.
type getter struct {
	m      resource.PropertyMap
	err    *error
	prefix string
}

func (g getter) get(k string) (resource.PropertyValue, bool) {
	v, ok := g.m[resource.PropertyKey(k)]
	if !ok || v.IsNull() {
		return v, false
	}
	v = plain(v)
	if v.ContainsUnknowns() && *g.err == nil {
		*g.err = fmt.Errorf("%s%s: the value is not known yet", g.prefix, k)
		return v, false
	}
	return v, true
}

func (g getter) has(k string) bool { _, ok := g.get(k); return ok }

func (g getter) bad(k, want string, v resource.PropertyValue) {
	if *g.err == nil {
		*g.err = fmt.Errorf("%s%s: expected %s, got %s", g.prefix, k, want, v.TypeString())
	}
}

func (g getter) str(k string) *string {
	v, ok := g.get(k)
	if !ok {
		return nil
	}
	if !v.IsString() {
		g.bad(k, "a string", v)
		return nil
	}
	s := v.StringValue()
	return &s
}

func (g getter) boolean(k string) *bool {
	v, ok := g.get(k)
	if !ok {
		return nil
	}
	if !v.IsBool() {
		g.bad(k, "a boolean", v)
		return nil
	}
	b := v.BoolValue()
	return &b
}

func (g getter) num(k string) *float64 {
	v, ok := g.get(k)
	if !ok {
		return nil
	}
	if !v.IsNumber() {
		g.bad(k, "a number", v)
		return nil
	}
	n := v.NumberValue()
	return &n
}

func (g getter) strList(k string) []string {
	v, ok := g.get(k)
	if !ok {
		return nil
	}
	if !v.IsArray() {
		g.bad(k, "a list of strings", v)
		return nil
	}
	out := []string{}
	for _, e := range v.ArrayValue() {
		if !e.IsString() {
			g.bad(k, "a list of strings", v)
			return nil
		}
		out = append(out, e.StringValue())
	}
	return out
}

func (g getter) strMap(k string) map[string]string {
	v, ok := g.get(k)
	if !ok {
		return nil
	}
	if !v.IsObject() {
		g.bad(k, "a map of strings", v)
		return nil
	}
	out := map[string]string{}
	for key, e := range v.ObjectValue() {
		switch {
		case e.IsNull():
		case e.IsString():
			out[string(key)] = e.StringValue()
		default:
			g.bad(k+"."+string(key), "a string", e)
			return nil
		}
	}
	return out
}
