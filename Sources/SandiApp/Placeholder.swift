enum _SandiAppPlaceholder {}
