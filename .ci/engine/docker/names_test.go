package main

import (
	"os"
	"regexp"
	"testing"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	shim "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim"
)

// The npm SDK (@pulumi/docker 5.x) was generated from upstream's schema; every input name it
// sends must map to a Terraform attribute here, or the bridge would drop it.
func TestSDKInputNamesMapToTerraform(t *testing.T) {
	info := providerInfo()
	sdk := "../../../node_modules/@pulumi/docker/"
	cases := []struct{ file, iface, tf string }{
		{"container.d.ts", "ContainerArgs", "docker_container"},
		{"remoteImage.d.ts", "RemoteImageArgs", "docker_image"},
		{"provider.d.ts", "ProviderArgs", ""},
	}
	field := regexp.MustCompile(`(?m)^    (?:readonly )?([a-zA-Z][a-zA-Z0-9]*)\??: `)
	for _, c := range cases {
		text, err := os.ReadFile(sdk + c.file)
		if err != nil {
			t.Fatal(err)
		}
		body := regexp.MustCompile(`(?s)export interface ` + c.iface + ` \{(.*?)\n\}`).FindSubmatch(text)
		if body == nil {
			t.Fatalf("%s: no interface %s", c.file, c.iface)
		}
		var schema shim.SchemaMap
		var fields map[string]*tfbridge.SchemaInfo
		if c.tf == "" {
			schema, fields = info.P.Schema(), info.Config
		} else {
			schema, fields = info.P.ResourcesMap().Get(c.tf).Schema(), info.Resources[c.tf].GetFields()
		}
		names := field.FindAllSubmatch(body[1], -1)
		if len(names) < 3 {
			t.Fatalf("%s: read only %d input names", c.iface, len(names))
		}
		for _, m := range names {
			name := string(m[1])
			tf := tfbridge.PulumiToTerraformName(name, schema, fields)
			if _, ok := schema.GetOk(tf); !ok {
				t.Errorf("%s.%s: no Terraform attribute (tried %q)", c.iface, name, tf)
			}
		}
	}
}
