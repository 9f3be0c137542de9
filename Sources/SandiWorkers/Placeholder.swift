enum _SandiWorkersPlaceholder {}
