// The unacknowledged alarms, for the banner on every screen (refreshed on
// `alarm` events, after an acknowledgement, and every 30 s).
import { errorText, get, qs, AlarmList } from './api';
import { store } from './store';

export const activeAlarms = store<{ list: AlarmList | null; error: string }>({ list: null, error: '' });

export async function refreshAlarms() {
  try {
    const list = await get<AlarmList>(`/api/alarms${qs({ active: 'true', per_page: 5 })}`);
    activeAlarms.set({ list, error: '' });
  } catch (e) {
    activeAlarms.set({ list: activeAlarms.get().list, error: errorText(e) });
  }
}
