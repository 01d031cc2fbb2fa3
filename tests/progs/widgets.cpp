// widgets.cpp — C++ new/delete under the shim: they reach malloc/free
// through libstdc++. Makes 100 Widgets with new (one leaked on purpose),
// a std::vector<int> grown to 1000 elements, and prints the line of the
// `new Widget` call so the test can check the symbolized call site.
#include <cstdio>
#include <vector>

namespace shop {
struct Widget {
  char name[40];
  int weight;
};

__attribute__((noinline)) Widget *make_widget(int i) {
  std::printf("new_line=%d\n", __LINE__ + 1);
  Widget *w = new Widget;
  w->weight = i;
  return w;
}
}  // namespace shop

int main() {
  shop::Widget *keep = nullptr;
  for (int i = 0; i < 100; i++) {
    shop::Widget *w = shop::make_widget(i);
    if (i == 42) keep = w;  // leaked
    else delete w;
  }
  std::vector<int> v;
  for (int i = 0; i < 1000; i++) v.push_back(i);
  std::printf("weight=%d sum=%zu\n", keep->weight, v.size());
  return 0;
}
