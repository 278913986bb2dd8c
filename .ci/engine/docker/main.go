// Command pulumi-resource-docker serves the Terraform Docker provider to Pulumi under the
// resource tokens of npm @pulumi/docker 5.x.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"github.com/terraform-providers/terraform-provider-docker/shim"
)

// Set with -ldflags "-X main.version=5.2.0": the engine matches it against the npm package.
var version = "5.2.0"

func providerInfo() tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:       shimv2.NewProvider(shim.NewProvider(version)),
		Name:    "docker",
		Version: version,
		Resources: map[string]*tfbridge.ResourceInfo{
			// @pulumi/docker keeps the name Image for its own buildkit resource; the Terraform
			// docker_image (pull or build) is RemoteImage there.
			"docker_image": {Tok: "docker:index/remoteImage:RemoteImage"},
		},
	}
	info.MustComputeTokens(tokens.SingleModule("docker_", "index", tokens.MakeStandard("docker")))
	return info
}

func main() {
	tfbridge.Main("docker", version, providerInfo(), []byte(`{"name":"docker","version":"`+version+`"}`))
}
