"""Use cases. Each public function either commits its change or leaves nothing behind."""
