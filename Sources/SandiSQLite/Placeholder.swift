enum _SandiSQLitePlaceholder {}
