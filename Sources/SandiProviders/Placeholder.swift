enum _SandiProvidersPlaceholder {}
