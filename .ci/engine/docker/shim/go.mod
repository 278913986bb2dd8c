// Lives under the Terraform provider's own module path so that it may import the provider's
// internal package (Go's internal rule is by import path): the provider exports no constructor.
module github.com/terraform-providers/terraform-provider-docker/shim

go 1.25.8

require github.com/terraform-providers/terraform-provider-docker v0.0.0
