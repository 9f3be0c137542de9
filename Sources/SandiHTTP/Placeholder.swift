enum _SandiHTTPPlaceholder {}
