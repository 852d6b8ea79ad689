// How many threads dsmoe's forward passes use. Results are bit-identical for any thread count.
#pragma once

namespace dsmoe {

void set_num_threads(int n);  // n <= 0: all cores this process may run on
int num_threads();            // what forward passes use now
// Cores this process may run on, and the most threads worth asking for: a spinning pool with more threads than
// 4 per core spends its time waiting on itself (10,000 threads on 2 cores ran for minutes on a 3-token prompt).
int available_cores();
int max_useful_threads();

}  // namespace dsmoe
