// Package shim hands the Terraform Docker provider's SDKv2 provider to the Pulumi bridge.
package shim

import (
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/terraform-providers/terraform-provider-docker/internal/provider"
)

// NewProvider returns the SDKv2 half of the provider, which holds docker_container and
// docker_image (the plugin-framework half adds compose and a few data sources we do not use).
func NewProvider(version string) *schema.Provider {
	return provider.New(version)()
}
