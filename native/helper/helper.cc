// Placeholder: the socket helper is being written.
int main() { return 70; }
